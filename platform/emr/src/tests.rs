use crate::{EmrError, EmrStore, Key, digest};
use proptest::prelude::*;
use rusqlite::{Connection, params};

fn store(dir: &tempfile::TempDir, key: &Key) -> EmrStore {
    EmrStore::open(&dir.path().join("emr.sqlite"), key).unwrap()
}

#[test]
fn a_document_round_trips_and_is_not_readable_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    let key = Key::generate();
    let s = store(&dir, &key);
    let letter = b"Discharge letter: the patient is doing well.";
    let d = s.insert("doc-1", letter, 1).unwrap();
    assert_eq!(d, digest(letter));
    assert_eq!(s.read("doc-1").unwrap(), letter);
    assert_eq!(s.read_checked("doc-1", &d).unwrap(), letter);
    assert!(s.contains("doc-1").unwrap());
    assert!(!s.contains("doc-2").unwrap());
    assert!(matches!(s.read("doc-2"), Err(EmrError::NotFound)));
    // nothing of the content is in the file
    drop(s);
    let raw = std::fs::read(dir.path().join("emr.sqlite")).unwrap();
    assert!(!raw.windows(9).any(|w| w == b"Discharge"));
    // the same key opens it again after a restart; another key does not
    let s = store(&dir, &key);
    assert_eq!(s.read("doc-1").unwrap(), letter);
    let other = EmrStore::open(&dir.path().join("emr.sqlite"), &Key::generate()).unwrap();
    assert!(matches!(other.read("doc-1"), Err(EmrError::Tampered)));
}

#[test]
fn documents_are_never_overwritten_and_removal_undoes_an_insert() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, &Key::generate());
    s.insert("doc-1", b"first", 1).unwrap();
    assert!(matches!(
        s.insert("doc-1", b"second", 2),
        Err(EmrError::Exists)
    ));
    assert_eq!(s.read("doc-1").unwrap(), b"first");
    assert!(s.remove("doc-1").unwrap());
    assert!(!s.remove("doc-1").unwrap());
    s.insert("doc-1", b"second", 3).unwrap();
    assert_eq!(s.read("doc-1").unwrap(), b"second");
}

#[test]
fn altered_rows_and_wrong_digests_are_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir, &Key::generate());
    let a = s.insert("doc-a", b"lab result A", 1).unwrap();
    let b = s.insert("doc-b", b"lab result B", 1).unwrap();
    // a digest the ledger does not hold
    assert!(matches!(
        s.read_checked("doc-a", &b),
        Err(EmrError::Tampered)
    ));
    let conn = Connection::open(dir.path().join("emr.sqlite")).unwrap();
    // one flipped bit of ciphertext
    let mut sealed: Vec<u8> = conn
        .query_row("SELECT sealed FROM emr WHERE document = 'doc-a'", [], |r| {
            r.get(0)
        })
        .unwrap();
    sealed[0] ^= 1;
    let n = conn
        .execute(
            "UPDATE emr SET sealed = ?1 WHERE document = 'doc-a'",
            params![sealed],
        )
        .unwrap();
    assert_eq!(n, 1);
    assert!(matches!(
        s.read_checked("doc-a", &a),
        Err(EmrError::Tampered)
    ));
    // a row moved under another id does not open
    let (nonce, sealed): (Vec<u8>, Vec<u8>) = conn
        .query_row(
            "SELECT nonce, sealed FROM emr WHERE document = 'doc-b'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    conn.execute(
        "INSERT INTO emr VALUES ('doc-c', ?1, ?2, 1)",
        params![nonce, sealed],
    )
    .unwrap();
    assert!(matches!(s.read("doc-c"), Err(EmrError::Tampered)));
    assert_eq!(s.read_checked("doc-b", &b).unwrap(), b"lab result B");
    // errors carry codes and never content
    let e = s.read_checked("doc-a", &a).unwrap_err();
    assert_eq!(e.code(), "EMR_TAMPERED");
    assert!(!e.to_string().contains("lab result"));
}

#[test]
fn key_files_round_trip_are_private_and_never_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys/emr.key");
    let key = Key::generate();
    key.write_new(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(matches!(
        Key::generate().write_new(&path),
        Err(EmrError::BadKey(_))
    ));
    let s = store(&dir, &key);
    s.insert("d", b"x", 1).unwrap();
    let again = EmrStore::open(&dir.path().join("emr.sqlite"), &Key::read(&path).unwrap()).unwrap();
    assert_eq!(again.read("d").unwrap(), b"x");
    assert_eq!(format!("{key:?}"), "Key(<redacted>)");
    for bad in ["", "abc", &"zz".repeat(32), &"ab".repeat(33)] {
        let e = Key::from_hex(bad).unwrap_err();
        assert_eq!(e.code(), "EMR_BAD_KEY");
    }
    assert!(matches!(
        Key::read(&dir.path().join("missing.key")),
        Err(EmrError::BadKey(_))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]
    #[test]
    fn any_content_round_trips_and_any_single_byte_change_is_caught(content in prop::collection::vec(any::<u8>(), 0..512), at in any::<prop::sample::Index>(), flip in 1u8..=255) {
        let dir = tempfile::tempdir().unwrap();
        let s = store(&dir, &Key::generate());
        let d = s.insert("doc", &content, 1).unwrap();
        prop_assert_eq!(s.read_checked("doc", &d).unwrap(), content);
        let conn = Connection::open(dir.path().join("emr.sqlite")).unwrap();
        let mut sealed: Vec<u8> = conn.query_row("SELECT sealed FROM emr", [], |r| r.get(0)).unwrap();
        let i = at.index(sealed.len());
        sealed[i] ^= flip;
        conn.execute("UPDATE emr SET sealed = ?1", params![sealed]).unwrap();
        prop_assert!(matches!(s.read_checked("doc", &d), Err(EmrError::Tampered)));
    }
}
