//! The bridge between the synchronous `Store` trait and sqlx's async API: a private tokio
//! runtime owned by the store. Each call is spawned onto it and the caller waits on a
//! channel, so a caller that is itself inside another runtime (actix's blocking threads,
//! a test's runtime) never nests `block_on`.

use ledger::StoreError;
use std::future::Future;

/// A private runtime and the way to run futures on it from any thread.
pub(crate) struct Bridge {
    runtime: Option<tokio::runtime::Runtime>,
}

impl Bridge {
    /// Starts a small multi-threaded runtime.
    pub(crate) fn new() -> Result<Self, StoreError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("pedigree-postgres")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Backend(format!("cannot start the database runtime: {e}")))?;
        Ok(Self {
            runtime: Some(runtime),
        })
    }

    /// Runs `fut` on the private runtime and waits for its output.
    pub(crate) fn run<T, F>(&self, fut: F) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, StoreError>> + Send + 'static,
        T: Send + 'static,
    {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| StoreError::Backend("the database runtime was shut down".into()))?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        runtime.spawn(async move {
            let _ = tx.send(fut.await);
        });
        rx.recv().unwrap_or_else(|_| {
            Err(StoreError::Backend(
                "the database task stopped without an answer".into(),
            ))
        })
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        // Never blocks and never panics, even when dropped inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
