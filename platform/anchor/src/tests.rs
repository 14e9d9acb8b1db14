use crate::{Anchor, by_reference, lookup};
use fixtures::TestNet;
use ledger::{Modules, hash::sha256};
use serde_json::json;

#[test]
fn anchors_once_and_reads_back() {
    let net = TestNet::new(Modules::new().with(Anchor), 1_700_000_000_000);
    let hospital = net.demo.signer("st-mary/admin");
    let doc = sha256(b"an EMR extract that stays off-chain");
    let first = hospital.event(
        "anchor",
        "anchor",
        json!({"digest": doc, "reference": "logger-7", "category": "reading"}),
    );
    let again = hospital.event("anchor", "anchor", json!({"digest": doc}));
    let second = hospital.event(
        "anchor",
        "anchor",
        json!({"digest": sha256(b"reading 2"), "reference": "logger-7"}),
    );
    // both copies pass admission (committed state has neither), the second loses at apply
    let results = net.commit(vec![first.clone(), again, second.clone()]);
    assert_eq!(
        results,
        vec![Ok(None), Ok(Some("ALREADY_ANCHORED".into())), Ok(None)]
    );
    // now admission refuses it outright
    let late = hospital.event("anchor", "anchor", json!({"digest": doc}));
    assert_eq!(net.commit(vec![late]), vec![Err("ALREADY_ANCHORED".into())]);
    // bad payloads
    for bad in [
        json!({"digest": "abc"}),
        json!({"digest": doc, "extra": 1}),
        json!({"digest": sha256(b"x"), "reference": ""}),
    ] {
        assert_eq!(
            net.send("st-mary/admin", "anchor", "anchor", bad).1,
            Err("BAD_PAYLOAD".into())
        );
    }
    let found = lookup(&net.ledger, &doc).unwrap().unwrap();
    assert_eq!(found.event, first.id());
    assert_eq!(found.org.as_str(), "st-mary");
    assert!(
        lookup(&net.ledger, &sha256(b"never anchored"))
            .unwrap()
            .is_none()
    );
    let refs = by_reference(&net.ledger, "logger-7", 10).unwrap();
    assert_eq!(
        refs.iter().map(|r| r.event).collect::<Vec<_>>(),
        vec![first.id(), second.id()]
    );
    net.assert_audit_passes();
}
