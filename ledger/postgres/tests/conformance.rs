//! The store conformance suite against PostgreSQL: each test in its own fresh schema,
//! dropped afterwards. Without a server the tests print a notice and pass as skipped,
//! unless `REQUIRE_POSTGRES=1`.

use std::sync::Arc;
use store_conformance::{Harness, Opened};
use store_postgres::testing::TestSchema;

struct PgHarness {
    schema: TestSchema,
}

impl Harness for PgHarness {
    fn open(&self) -> Opened {
        let store = Arc::new(self.schema.open());
        let raw = store.clone();
        Opened {
            store,
            sql: Box::new(move |sql| raw.execute_raw(sql)),
        }
    }

    fn set_event_body_byte_sql(&self, seq: u64, offset: usize, byte: u8) -> String {
        format!("UPDATE events SET body = set_byte(body, {offset}, {byte}) WHERE seq = {seq}")
    }

    fn fail_index_writes_sql(&self) -> String {
        "CREATE FUNCTION conformance_fail() RETURNS trigger LANGUAGE plpgsql AS
           $$ BEGIN RAISE EXCEPTION 'conformance: index writes fail'; END $$;
         CREATE TRIGGER conformance_fail_index BEFORE INSERT ON item_index
           FOR EACH ROW EXECUTE FUNCTION conformance_fail();"
            .into()
    }

    fn allow_index_writes_sql(&self) -> String {
        "DROP TRIGGER conformance_fail_index ON item_index; DROP FUNCTION conformance_fail();"
            .into()
    }
}

fn harness() -> Option<PgHarness> {
    TestSchema::create().map(|schema| PgHarness { schema })
}

store_conformance::store_conformance_tests!(harness());

#[test]
fn schema_is_dropped_after_the_test() {
    let Some(schema) = TestSchema::create() else {
        return;
    };
    let name = schema.name().to_string();
    let url = schema.url().to_string();
    drop(schema.open());
    drop(schema);
    let store = store_postgres::PgStore::open(&url, None).expect("opening the public schema");
    let left = store
        .execute_raw(&format!(
            "SELECT 1 FROM pg_namespace WHERE nspname = '{name}'"
        ))
        .expect("querying the catalogue");
    assert_eq!(left, 0, "schema {name} was dropped");
}
