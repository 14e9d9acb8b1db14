//! The ledger's own queries: the chain head and the consortium's organisations.

use async_graphql::{Context, Object, Result, SimpleObject};
use ledger::Ledger;
use std::sync::Arc;

/// Where the chain stands.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct ChainInfo {
    /// Height of the last block.
    pub height: u64,
    /// Hash of the last block, lowercase hex.
    pub head_hash: String,
    /// Time of the last block, Unix milliseconds.
    pub head_time: i64,
    /// Number of events on the chain.
    pub events: u64,
}

/// A member of the consortium.
#[derive(SimpleObject, Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    /// Stable id, e.g. `city-pharmacy`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// manufacturer, distributor, pharmacy, hospital, regulator or payer.
    pub role: String,
    /// GS1 Global Location Numbers of its sites.
    pub glns: Vec<String>,
    /// GS1 company prefixes it owns.
    pub company_prefixes: Vec<String>,
}

impl Organization {
    /// The GraphQL view of a consortium member.
    pub fn of(o: &ledger::Organization) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name.clone(),
            role: o.role.as_str().to_string(),
            glns: o.glns.clone(),
            company_prefixes: o.company_prefixes.clone(),
        }
    }
}

/// Queries about the chain itself.
#[derive(Default)]
pub struct ChainQuery;

#[Object]
impl ChainQuery {
    /// The chain head.
    async fn chain(&self, ctx: &Context<'_>) -> Result<ChainInfo> {
        let head = ctx.data::<Arc<Ledger>>()?.head();
        Ok(ChainInfo {
            height: head.height,
            head_hash: head.hash.to_hex(),
            head_time: head.time,
            events: head.next_seq,
        })
    }

    /// Every member organisation.
    async fn organizations(&self, ctx: &Context<'_>) -> Result<Vec<Organization>> {
        let consortium = ctx.data::<Arc<Ledger>>()?.consortium();
        Ok(consortium
            .organizations
            .iter()
            .map(Organization::of)
            .collect())
    }
}
