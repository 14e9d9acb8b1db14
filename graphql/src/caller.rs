//! Who is asking, what the peer behind the schema must provide, and the access rules:
//! a regulator reads everything; a brand owner reads the full history of its own
//! products; other members see verdicts for any code and the events they were party to;
//! writes need an operator, pharmacist, recall-manager or admin role in an organisation
//! of the right kind.

use crate::errors::{FORBIDDEN, UNAUTHENTICATED, error};
use async_graphql::Context;
use futures_util::Stream;
use ledger::{ActorId, CommitNotice, Consortium, OrgId, OrgRole, Receipt, Rejection};
use serde_json::Value;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use trace::Code;

/// The authenticated actor of a request (the peer puts it into the request's data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The actor.
    pub actor: ActorId,
    /// Its organisation.
    pub org: OrgId,
    /// That organisation's kind.
    pub org_role: OrgRole,
    /// The actor's roles in it (`admin`, `operator`, `pharmacist`, `recall-manager`...).
    pub roles: Vec<String>,
    /// The organisation's GS1 company prefixes.
    pub company_prefixes: Vec<String>,
}

impl Caller {
    /// The caller of `actor` as the consortium config has it; `None` when the actor is
    /// unknown or revoked.
    pub fn of(consortium: &Consortium, actor: &ActorId) -> Option<Self> {
        let directory = consortium.directory();
        let (org, org_role, a) = directory.actor(actor)?;
        if a.revoked {
            return None;
        }
        let company_prefixes = consortium
            .organization(org)
            .map(|o| o.company_prefixes.clone())
            .unwrap_or_default();
        Some(Self {
            actor: actor.clone(),
            org: org.clone(),
            org_role,
            roles: a.roles.clone(),
            company_prefixes,
        })
    }

    /// True for a regulator's actor.
    pub fn is_regulator(&self) -> bool {
        self.org_role == OrgRole::Regulator
    }

    /// True when the caller's organisation owns the GS1 company prefix of `code`.
    pub fn owns(&self, code: &Code) -> bool {
        let digits = match code {
            Code::Item { gtin, .. } => gtin.as_str(),
            Code::Container(sscc) => sscc.as_str(),
        };
        // GTIN-14 and SSCC-18 both start with one indicator or extension digit.
        let rest = digits.get(1..).unwrap_or("");
        self.company_prefixes
            .iter()
            .any(|p| !p.is_empty() && rest.starts_with(p.as_str()))
    }

    /// Sees the whole history of `code`: a regulator, or the brand owner.
    pub fn sees_all_of(&self, code: &Code) -> bool {
        self.is_regulator() || self.owns(code)
    }

    fn has_any(&self, roles: &[&str]) -> bool {
        self.roles.iter().any(|r| roles.contains(&r.as_str()))
    }

    /// Checks that the caller may perform `action`.
    pub fn may(&self, action: Action) -> async_graphql::Result<()> {
        use OrgRole::*;
        let custody = [Manufacturer, Distributor, Pharmacy, Hospital];
        let (kinds, roles): (&[OrgRole], &[&str]) = match action {
            Action::Commission => (&[Manufacturer], &["operator", "admin"]),
            Action::Custody => (&custody, &["operator", "pharmacist", "admin"]),
            Action::Dispense => (&[Pharmacy, Hospital], &["pharmacist", "admin"]),
            Action::IssueRecall => (&[Manufacturer, Regulator], &["recall-manager", "admin"]),
            Action::AcknowledgeRecall => (
                &custody,
                &["operator", "pharmacist", "recall-manager", "admin"],
            ),
        };
        if kinds.contains(&self.org_role) && self.has_any(roles) {
            Ok(())
        } else {
            Err(error(
                FORBIDDEN,
                format!(
                    "{} ({} of a {}) may not {}: it needs one of the roles {} in a {}",
                    self.actor,
                    self.roles.join(", "),
                    self.org_role.as_str(),
                    action.describe(),
                    roles.join(", "),
                    kinds
                        .iter()
                        .map(OrgRole::as_str)
                        .collect::<Vec<_>>()
                        .join(" or "),
                ),
            ))
        }
    }
}

/// What a mutation does, for the role check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Commission serials.
    Commission,
    /// Pack, unpack, ship, receive, decommission, quarantine, release.
    Custody,
    /// Dispense to a patient.
    Dispense,
    /// Issue a recall.
    IssueRecall,
    /// Acknowledge a recall.
    AcknowledgeRecall,
}

impl Action {
    fn describe(self) -> &'static str {
        match self {
            Self::Commission => "commission serials",
            Self::Custody => "change custody of units",
            Self::Dispense => "dispense",
            Self::IssueRecall => "issue a recall",
            Self::AcknowledgeRecall => "acknowledge a recall",
        }
    }
}

/// The authenticated caller, or an `UNAUTHENTICATED` error.
pub fn caller<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Caller> {
    ctx.data_opt::<Caller>().ok_or_else(|| {
        error(
            UNAUTHENTICATED,
            "send a bearer token: `Authorization: Bearer <token>` (see `pedigree token create`)",
        )
    })
}

/// A submission in flight.
pub type SubmitFuture = Pin<Box<dyn Future<Output = Result<Receipt, Rejection>> + Send>>;

/// Committed blocks, as they come.
pub type CommitStream = Pin<Box<dyn Stream<Item = Arc<CommitNotice>> + Send>>;

/// What the schema needs from the peer serving it. The peer binary implements it; the
/// schema never knows how events are signed, ordered or delivered.
pub trait Peer: Send + Sync {
    /// Signs each `(kind, payload)` trace event with `actor`'s custodial key, admits and
    /// orders them, and resolves once their block is committed, within a bounded wait
    /// (else a `COMMIT_TIMEOUT` rejection). A refusal at admission is the rejection.
    fn submit(&self, actor: &ActorId, events: Vec<(&'static str, Value)>) -> SubmitFuture;

    /// Like [`Peer::submit`], for events of another module (e.g. `consent`). A peer that
    /// signs only trace events answers `UNAVAILABLE`.
    fn submit_to(
        &self,
        module: &'static str,
        actor: &ActorId,
        events: Vec<(&'static str, Value)>,
    ) -> SubmitFuture {
        let _ = (actor, events);
        Box::pin(async move {
            Err(Rejection::new(
                "UNAVAILABLE",
                format!("this peer does not sign {module} events"),
            ))
        })
    }

    /// Every block committed from now on.
    fn commits(&self) -> CommitStream;
}
