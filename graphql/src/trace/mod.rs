//! The trace module's GraphQL object: verification, provenance, recalls and events to
//! read; custody changes and recalls to write (signed with the caller's custodial key by
//! the peer, answered once committed); recall alerts and events to subscribe to.

mod events;
mod input;
pub mod types;

use crate::caller::{Action, Caller, Peer, caller};
use crate::errors::{BAD_INPUT, NOT_FOUND, error, internal};
use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, Object, Result, Subscription};
use events::{Blocks, Filter, event_of, visible};
use futures_util::{Stream, StreamExt};
use ledger::{Ledger, Receipt, Rejection};
use std::sync::Arc;
use trace::{Code, TraceEvent};
use types::*;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn ledger<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Ledger>> {
    ctx.data::<Arc<Ledger>>()
}

/// The GraphQL view of a verification for `caller` (`None`: an anonymous viewer, who
/// gets no custody details).
pub fn verification(
    ledger: &Ledger,
    v: trace::Verification,
    caller: Option<&Caller>,
) -> Result<Verification> {
    let consortium = ledger.consortium();
    let code: Option<Code> = match (&v.gtin, &v.serial, &v.sscc) {
        (_, _, Some(s)) => format!("(00){s}").parse().ok(),
        (Some(g), Some(s), _) => format!("(01){g}(21){s}").parse().ok(),
        _ => None,
    };
    let sees_holder = caller.is_some_and(|c| {
        v.holder.as_ref() == Some(&c.org) || code.as_ref().is_some_and(|k| c.sees_all_of(k))
    });
    let recall = match &v.recall {
        Some(r) => trace::recall(ledger, &r.id)
            .map_err(internal)?
            .map(|view| Recall::of(&view, &consortium, caller)),
        None => None,
    };
    // The module's reason names the holder; a member who may not see custody gets the
    // same verdict without it (the receiver of a shipment still learns who sent it).
    let reason = if !sees_holder
        && v.verdict == trace::Verdict::NotInYourCustody
        && !v.reason.contains("on its way to you")
    {
        "It is registered to another member, or in transit between two others.".to_string()
    } else {
        v.reason
    };
    Ok(Verification {
        verdict: v.verdict.into(),
        reason,
        next_action: v.next_action,
        gtin: v.gtin,
        serial: v.serial,
        sscc: v.sscc,
        lot: v.lot,
        expiry: v.expiry,
        holder: v
            .holder
            .filter(|_| sees_holder)
            .map(|h| types::organization(&consortium, &h)),
        status: v.status.map(str::to_string),
        recall,
        diagnostic: v.diagnostic.map(|d| ScanDiagnostic {
            code: d.code,
            message: d.message,
        }),
        hints: v.hints,
    })
}

fn rejected(r: Rejection) -> async_graphql::Error {
    error(&r.code, r.message)
}

/// Submits events as the caller after the role check; the receipt once committed.
async fn submit(ctx: &Context<'_>, action: Action, events: Vec<TraceEvent>) -> Result<Receipt> {
    let caller = caller(ctx)?;
    caller.may(action)?;
    let peer = ctx.data::<Arc<dyn Peer>>()?;
    let batch = events.iter().map(|e| (e.kind(), e.payload())).collect();
    let receipt = peer.submit(&caller.actor, batch).await.map_err(rejected)?;
    if let Some((id, Some(code))) = receipt.results.iter().find(|(_, c)| c.is_some()) {
        return Err(error(
            code,
            format!(
                "event {id} was ordered into block {} but refused when applied ({code}); nothing changed",
                receipt.block_height
            ),
        ));
    }
    Ok(receipt)
}

fn receipt(r: Receipt) -> EventReceipt {
    EventReceipt {
        event_ids: r.results.iter().map(|(id, _)| ID(id.to_hex())).collect(),
        block_height: r.block_height,
        block_hash: r.block_hash.to_hex(),
    }
}

fn recall_by_id(ctx: &Context<'_>, id: &ledger::EventId) -> Result<Recall> {
    let ledger = ledger(ctx)?;
    let view = trace::recall(ledger, id)
        .map_err(internal)?
        .ok_or_else(|| error(NOT_FOUND, format!("no recall {id}")))?;
    Ok(Recall::of(
        &view,
        &ledger.consortium(),
        ctx.data_opt::<Caller>(),
    ))
}

/// What a page of events adds to the usual connection fields.
#[derive(async_graphql::SimpleObject, Debug, Clone)]
pub struct PageMore {
    /// Pass as `after` to read on; set whenever `hasNextPage` is, even on a page whose
    /// blocks held no event for the caller.
    pub next_cursor: Option<String>,
}

/// Trace queries.
#[derive(Default)]
pub struct TraceQuery;

#[Object]
impl TraceQuery {
    /// Verifies any scan (element string, bracketed text, Digital Link URI, with or
    /// without symbology identifier) for the caller's organisation.
    async fn verify(&self, ctx: &Context<'_>, code: String) -> Result<Verification> {
        let caller = caller(ctx)?;
        let ledger = ledger(ctx)?;
        let v = trace::verify(ledger, &code, &caller.org, now_ms()).map_err(internal)?;
        verification(ledger, v, Some(caller))
    }

    /// Every event of a unit and of the containers it travelled in, with block and
    /// Merkle proof. Regulators and the brand owner see all; others the events they were
    /// party to.
    async fn provenance(&self, ctx: &Context<'_>, code: String) -> Result<Provenance> {
        let caller = caller(ctx)?;
        let ledger = ledger(ctx)?;
        let code = input::code(&code)?;
        // The normalised form reads back as a scan; this entry point is the module's stable one.
        let p = trace::provenance(ledger, &code.to_string()).map_err(|e| match e {
            trace::ProvenanceError::Scan(p) => error(crate::errors::BAD_CODE, p.message),
            trace::ProvenanceError::Store(e) => internal(e),
        })?;
        let all = caller.sees_all_of(&code);
        let mut blocks = Blocks::default();
        let mut events = Vec::with_capacity(p.events.len());
        for e in p.events {
            let rec = ledger
                .event(&e.event)
                .map_err(internal)?
                .ok_or_else(|| internal(format!("event {} is missing", e.event)))?;
            let parsed = TraceEvent::parse(rec.envelope.kind(), rec.envelope.payload()).ok();
            if !all && !visible(caller, &rec.envelope, parsed.as_ref()) {
                continue;
            }
            let block = blocks.get(ledger, e.height)?;
            events.push(event_of(&rec, block, e.via.as_ref()));
        }
        Ok(Provenance {
            code: code.to_string(),
            events,
            complete: all,
        })
    }

    /// Recalls, oldest first; `active` filters on whether they are still open.
    async fn recalls(&self, ctx: &Context<'_>, active: Option<bool>) -> Result<Vec<Recall>> {
        let caller = caller(ctx)?;
        let ledger = ledger(ctx)?;
        let consortium = ledger.consortium();
        Ok(trace::recalls(ledger, active)
            .map_err(internal)?
            .iter()
            .map(|r| Recall::of(r, &consortium, Some(caller)))
            .collect())
    }

    /// Events the caller may see, oldest first, filtered, `first` at a time (at most
    /// 200) after the cursor `after`.
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        code: Option<String>,
        biz_step: Option<String>,
        org: Option<String>,
        #[graphql(desc = "block time at or after, Unix ms")] since: Option<i64>,
        #[graphql(desc = "block time before, Unix ms")] until: Option<i64>,
        after: Option<String>,
        #[graphql(default = 50)] first: i32,
    ) -> Result<Connection<String, Event, PageMore>> {
        let caller = caller(ctx)?;
        let ledger = ledger(ctx)?;
        if !(1..=events::MAX_PAGE as i32).contains(&first) {
            return Err(error(
                BAD_INPUT,
                format!("first must be between 1 and {}", events::MAX_PAGE),
            ));
        }
        let filter = Filter {
            code: code.as_deref().map(input::code).transpose()?,
            biz_step,
            org,
            since,
            until,
        };
        let after = after.as_deref().map(events::read_cursor).transpose()?;
        let page = events::page(ledger, caller, &filter, after, first as usize)?;
        let more = PageMore {
            next_cursor: page.next.map(events::cursor),
        };
        let mut conn =
            Connection::with_additional_fields(after.is_some(), page.next.is_some(), more);
        conn.edges.extend(
            page.events
                .into_iter()
                .map(|(pos, e)| Edge::new(events::cursor(pos), e)),
        );
        Ok(conn)
    }

    /// A block by height: its header and event ids.
    async fn block(&self, ctx: &Context<'_>, height: u64) -> Result<Block> {
        caller(ctx)?;
        let ledger = ledger(ctx)?;
        let b = ledger
            .block(height)
            .map_err(internal)?
            .ok_or_else(|| error(NOT_FOUND, format!("no block at height {height}")))?;
        Ok(Block {
            height: b.header.height,
            hash: b.header.hash().to_hex(),
            previous_hash: b.header.previous.to_hex(),
            merkle_root: b.header.merkle_root.to_hex(),
            time: b.header.time,
            orderer: b.header.orderer.to_string(),
            event_ids: b.ids().iter().map(|i| ID(i.to_hex())).collect(),
        })
    }

    /// The authenticated caller.
    async fn me(&self, ctx: &Context<'_>) -> Result<Me> {
        let caller = caller(ctx)?;
        let consortium = ledger(ctx)?.consortium();
        Ok(Me {
            actor: ID(caller.actor.to_string()),
            org: types::organization(&consortium, &caller.org),
            roles: caller.roles.clone(),
        })
    }
}

/// Trace mutations: each builds events, signs them as the caller, and answers once they
/// are committed.
#[derive(Default)]
pub struct TraceMutation;

#[Object]
impl TraceMutation {
    /// Commissions serials of one GTIN and lot (the brand owner only).
    async fn commission(&self, ctx: &Context<'_>, input: CommissionInput) -> Result<EventReceipt> {
        let e = input::commission(&input)?;
        submit(ctx, Action::Commission, vec![e]).await.map(receipt)
    }

    /// Packs units into a case or pallet (SSCC).
    async fn pack(&self, ctx: &Context<'_>, input: PackInput) -> Result<EventReceipt> {
        let e = input::pack(&input)?;
        submit(ctx, Action::Custody, vec![e]).await.map(receipt)
    }

    /// Takes units (or everything) out of a container.
    async fn unpack(&self, ctx: &Context<'_>, input: UnpackInput) -> Result<EventReceipt> {
        let e = input::unpack(&input)?;
        submit(ctx, Action::Custody, vec![e]).await.map(receipt)
    }

    /// Ships units to another member.
    async fn ship(&self, ctx: &Context<'_>, input: ShipInput) -> Result<EventReceipt> {
        let e = input::ship(&input)?;
        submit(ctx, Action::Custody, vec![e]).await.map(receipt)
    }

    /// Receives units shipped to the caller's organisation.
    async fn receive(&self, ctx: &Context<'_>, input: ReceiveInput) -> Result<EventReceipt> {
        let e = input::receive(&input)?;
        submit(ctx, Action::Custody, vec![e]).await.map(receipt)
    }

    /// Dispenses one pack to a patient.
    async fn dispense(&self, ctx: &Context<'_>, input: DispenseInput) -> Result<EventReceipt> {
        let e = TraceEvent::Dispense(trace::Codes {
            codes: vec![input::code(&input.code)?],
        });
        submit(ctx, Action::Dispense, vec![e]).await.map(receipt)
    }

    /// Takes units out of the supply chain.
    async fn decommission(
        &self,
        ctx: &Context<'_>,
        input: DecommissionInput,
    ) -> Result<EventReceipt> {
        let e = input::decommission(&input)?;
        submit(ctx, Action::Custody, vec![e]).await.map(receipt)
    }

    /// Puts units on hold.
    async fn quarantine(&self, ctx: &Context<'_>, input: QuarantineInput) -> Result<EventReceipt> {
        let e = TraceEvent::Quarantine(trace::Codes {
            codes: input::codes(&input.codes)?,
        });
        submit(ctx, Action::Custody, vec![e]).await.map(receipt)
    }

    /// Releases units from hold.
    async fn release(&self, ctx: &Context<'_>, input: ReleaseInput) -> Result<EventReceipt> {
        let e = TraceEvent::Release(trace::Codes {
            codes: input::codes(&input.codes)?,
        });
        submit(ctx, Action::Custody, vec![e]).await.map(receipt)
    }

    /// Issues a recall (the brand owner's recall manager, or a regulator).
    async fn issue_recall(&self, ctx: &Context<'_>, input: RecallInput) -> Result<Recall> {
        let e = input::recall(&input)?;
        let r = submit(ctx, Action::IssueRecall, vec![e]).await?;
        let (id, _) = r
            .results
            .first()
            .ok_or_else(|| internal("an empty receipt"))?;
        recall_by_id(ctx, id)
    }

    /// Acknowledges a recall as a holder of its units.
    async fn acknowledge_recall(
        &self,
        ctx: &Context<'_>,
        input: AcknowledgeRecallInput,
    ) -> Result<Recall> {
        let id = input::recall_id(&input.recall)?;
        let e = TraceEvent::Acknowledge(trace::Acknowledge { recall: id });
        submit(ctx, Action::AcknowledgeRecall, vec![e]).await?;
        recall_by_id(ctx, &id)
    }
}

/// Trace subscriptions.
#[derive(Default)]
pub struct TraceSubscription;

#[Subscription]
impl TraceSubscription {
    /// Recalls that affect the caller's organisation, as their blocks commit.
    async fn recall_alerts(&self, ctx: &Context<'_>) -> Result<impl Stream<Item = RecallAlert>> {
        let caller = caller(ctx)?.clone();
        let ledger = ledger(ctx)?.clone();
        let commits = ctx.data::<Arc<dyn Peer>>()?.commits();
        Ok(commits.flat_map(move |notice| {
            let consortium = ledger.consortium();
            let alerts: Vec<RecallAlert> = notice
                .notifications
                .iter()
                .filter(|n| n.topic == "recall")
                .filter(|n| n.orgs.is_empty() || n.orgs.contains(&caller.org))
                .filter_map(|n| {
                    let id: ledger::EventId = n.body.get("recall")?.as_str()?.parse().ok()?;
                    let view = trace::recall(&ledger, &id).ok()??;
                    let units_held = n
                        .body
                        .get("units_by_holder")
                        .and_then(|u| u.get(caller.org.as_str()))
                        .and_then(serde_json::Value::as_u64)
                        .unwrap_or(0);
                    Some(RecallAlert {
                        recall: Recall::of(&view, &consortium, Some(&caller)),
                        units_held,
                        block_height: notice.height,
                    })
                })
                .collect();
            futures_util::stream::iter(alerts)
        }))
    }

    /// Events the caller may see, filtered, as their blocks commit.
    async fn events(
        &self,
        ctx: &Context<'_>,
        code: Option<String>,
        biz_step: Option<String>,
        org: Option<String>,
    ) -> Result<impl Stream<Item = Event>> {
        let caller = caller(ctx)?.clone();
        let ledger = ledger(ctx)?.clone();
        let filter = Filter {
            code: code.as_deref().map(input::code).transpose()?,
            biz_step,
            org,
            since: None,
            until: None,
        };
        let commits = ctx.data::<Arc<dyn Peer>>()?.commits();
        Ok(commits.flat_map(move |notice| {
            let mut out = Vec::new();
            if let Ok(Some(block)) = ledger.block(notice.height) {
                for (index, env) in block.events.iter().enumerate() {
                    let parsed = TraceEvent::parse(env.kind(), env.payload()).ok();
                    if !visible(&caller, env, parsed.as_ref()) {
                        continue;
                    }
                    let rec = ledger::EventRecord {
                        envelope: env.clone(),
                        height: notice.height,
                        index: index as u32,
                        result: notice.results.get(index).and_then(|(_, c)| c.clone()),
                    };
                    let e = event_of(&rec, &block, None);
                    if filter.keeps(&e) {
                        out.push(e);
                    }
                }
            }
            futures_util::stream::iter(out)
        }))
    }
}
