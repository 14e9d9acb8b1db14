//! Making the genesis block: block 0 holds one `consortium/genesis` event carrying the
//! whole consortium config, signed by a governor's admin and sealed by a peer.

use crate::block::Block;
use crate::config::Consortium;
use crate::consortium;
use crate::envelope::UnsignedEnvelope;
use crate::hash::BlockHash;
use crate::ids::{ActorId, ModuleName, OrgId, PeerId};
use crate::keys::SecretKey;

/// Builds and signs the genesis block. `admin` must be an admin actor of a governor
/// organisation in `config`, and `peer` a peer in it whose key is `peer_key`.
pub fn genesis_block(
    config: &Consortium,
    admin: (&ActorId, &OrgId, &SecretKey),
    peer: (&PeerId, &SecretKey),
    time: i64,
) -> Block {
    let event = UnsignedEnvelope {
        module: ModuleName::new(consortium::MODULE).expect("valid name"),
        kind: ModuleName::new(consortium::GENESIS).expect("valid name"),
        payload: serde_json::to_value(config).expect("config serialises"),
        actor: admin.0.clone(),
        org: admin.1.clone(),
        created_at: time,
        nonce: 0,
    }
    .sign(admin.2);
    Block::seal(
        0,
        BlockHash::ZERO,
        time,
        peer.0.clone(),
        peer.1,
        vec![event],
    )
}
