//! Merkle trees over event ids in the RFC 6962 (Certificate Transparency) style: a leaf is
//! hashed as `SHA-256(0x00 || id)` and a node as `SHA-256(0x01 || left || right)`, so a
//! leaf can never pass as a node. Unbalanced trees split at the largest power of two
//! below the size. Inclusion proofs are audit paths, checked without the other leaves.

use crate::hash::{Digest, EventId, sha256, sha256_parts};
use serde::{Deserialize, Serialize};

/// The root of the empty tree: SHA-256 of no bytes.
pub fn empty_root() -> Digest {
    sha256(&[])
}

fn leaf_hash(id: &EventId) -> Digest {
    sha256_parts(&[&[0x00], id.as_bytes()])
}

fn node_hash(left: &Digest, right: &Digest) -> Digest {
    sha256_parts(&[&[0x01], left.as_bytes(), right.as_bytes()])
}

/// A whole tree held in memory (every level), to prove many leaves of one block without
/// rebuilding it each time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    levels: Vec<Vec<Digest>>,
}

impl Tree {
    /// The tree over `ids`, in order. Bottom-up: neighbours pair; an odd last node rises
    /// unchanged, which gives RFC 6962's split at the largest power of two below n.
    pub fn new(ids: &[EventId]) -> Self {
        let mut levels = vec![ids.iter().map(leaf_hash).collect::<Vec<_>>()];
        while levels.last().is_some_and(|l| l.len() > 1) {
            let below = levels.last().expect("at least one level");
            let next = below
                .chunks(2)
                .map(|pair| match pair {
                    [l, r] => node_hash(l, r),
                    [only] => *only,
                    _ => unreachable!("chunks(2) yields one or two"),
                })
                .collect();
            levels.push(next);
        }
        Self { levels }
    }

    /// Number of leaves.
    pub fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// True for the tree of no leaves.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The root (SHA-256 of nothing for the empty tree).
    pub fn root(&self) -> Digest {
        match self.levels.last().and_then(|l| l.first()) {
            Some(root) if !self.is_empty() => *root,
            _ => empty_root(),
        }
    }

    /// The audit path of leaf `index`, or `None` when out of range.
    pub fn prove(&self, index: usize) -> Option<InclusionProof> {
        if index >= self.len() {
            return None;
        }
        let mut path = Vec::new();
        let mut i = index;
        for level in &self.levels[..self.levels.len() - 1] {
            if let Some(sibling) = level.get(i ^ 1) {
                path.push(*sibling);
            }
            i /= 2;
        }
        Some(InclusionProof {
            index: index as u64,
            size: self.len() as u64,
            path,
        })
    }
}

/// Levels at the bottom of a block's tree that stores do not keep: proving an event reads
/// the ids of the aligned chunk of `2^CHUNK_LEVELS` events around it and rebuilds those
/// levels, then takes one stored node per level above. Two levels (chunks of four) keep
/// the stored nodes near 16 bytes per event while a proof reads at most four events.
pub const CHUNK_LEVELS: usize = 2;

/// Events per chunk (see [`CHUNK_LEVELS`]).
pub const CHUNK: usize = 1 << CHUNK_LEVELS;

/// The number of nodes on each level of a tree of `size` leaves, leaves first, root last.
fn level_sizes(size: usize) -> Vec<usize> {
    let mut sizes = vec![size];
    while let Some(&n) = sizes.last().filter(|&&n| n > 1) {
        sizes.push(n.div_ceil(2));
    }
    sizes
}

/// Byte length of [`Tree::upper_levels`] for a tree of `size` leaves.
pub fn upper_levels_len(size: usize) -> usize {
    let sizes = level_sizes(size);
    let top = sizes.len() - 1;
    sizes
        .get(CHUNK_LEVELS..top)
        .map_or(0, |levels| levels.iter().sum::<usize>())
        * 32
}

impl Tree {
    /// The nodes a store keeps for this tree: every level above the chunks and below the
    /// root (which the block header carries), concatenated bottom-up, 32 bytes each.
    /// Empty for trees of at most one chunk.
    pub fn upper_levels(&self) -> Vec<u8> {
        let top = self.levels.len() - 1;
        let mut out = Vec::with_capacity(upper_levels_len(self.len()));
        for level in self.levels.get(CHUNK_LEVELS..top).unwrap_or(&[]) {
            for node in level {
                out.extend_from_slice(node.as_bytes());
            }
        }
        out
    }
}

/// The audit path of leaf `index` in a tree of `size` leaves, from the ids of the aligned
/// chunk holding it (leaves `index / CHUNK * CHUNK` onwards, at most [`CHUNK`]) and the
/// stored [`Tree::upper_levels`]. `None` when the parts do not fit together (wrong chunk
/// length, wrong stored length, index out of range); a proof built from tampered nodes
/// fails [`InclusionProof::verify`] against the block's root.
pub fn prove_from_parts(
    size: usize,
    index: usize,
    chunk: &[EventId],
    upper: &[u8],
) -> Option<InclusionProof> {
    if index >= size || upper.len() != upper_levels_len(size) {
        return None;
    }
    let start = index / CHUNK * CHUNK;
    if chunk.len() != CHUNK.min(size - start) {
        return None;
    }
    let sizes = level_sizes(size);
    let top = sizes.len() - 1;
    // The bottom levels, rebuilt over the chunk: within an aligned chunk the pairing is
    // the same as in the whole tree, including an odd last node rising unchanged.
    let local = Tree::new(chunk);
    let mut path = Vec::with_capacity(top);
    let mut offset = 0;
    for (k, &len) in sizes.iter().enumerate().take(top) {
        let sibling = (index >> k) ^ 1;
        if k < CHUNK_LEVELS {
            if sibling < len {
                path.push(local.levels[k][sibling - (start >> k)]);
            }
        } else {
            if sibling < len {
                let at = offset + sibling * 32;
                path.push(Digest(upper[at..at + 32].try_into().ok()?));
            }
            offset += len * 32;
        }
    }
    Some(InclusionProof {
        index: index as u64,
        size: size as u64,
        path,
    })
}

/// The Merkle root of `ids`, in order.
pub fn root(ids: &[EventId]) -> Digest {
    Tree::new(ids).root()
}

/// The audit path proving that leaf `index` is in a tree of `size` leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Position of the leaf, from 0.
    pub index: u64,
    /// Number of leaves in the tree.
    pub size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Digest>,
}

/// The inclusion proof for leaf `index` of `ids`, or `None` when out of range.
pub fn prove(ids: &[EventId], index: usize) -> Option<InclusionProof> {
    Tree::new(ids).prove(index)
}

impl InclusionProof {
    /// True when `id` at this proof's index leads to `root`.
    pub fn verify(&self, id: &EventId, root: &Digest) -> bool {
        if self.index >= self.size {
            return false;
        }
        // RFC 9162 section 2.1.3.2.
        let (mut fnode, mut snode) = (self.index, self.size - 1);
        let mut r = leaf_hash(id);
        for p in &self.path {
            if snode == 0 {
                return false;
            }
            if fnode & 1 == 1 || fnode == snode {
                r = node_hash(p, &r);
                if fnode & 1 == 0 {
                    while fnode & 1 == 0 && fnode != 0 {
                        fnode >>= 1;
                        snode >>= 1;
                    }
                }
            } else {
                r = node_hash(&r, p);
            }
            fnode >>= 1;
            snode >>= 1;
        }
        snode == 0 && r == *root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ids(n: usize) -> Vec<EventId> {
        (0..n)
            .map(|i| EventId(sha256(&(i as u64).to_be_bytes()).0))
            .collect()
    }

    /// RFC 6962's recursive definition, as the reference for the iterative one.
    fn reference_root(leaves: &[EventId]) -> Digest {
        match leaves.len() {
            0 => empty_root(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = n.next_power_of_two() / 2;
                node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
            }
        }
    }

    #[test]
    fn matches_the_recursive_definition() {
        for n in 0..70 {
            assert_eq!(root(&ids(n)), reference_root(&ids(n)), "n = {n}");
        }
    }

    #[test]
    fn a_leaf_cannot_pass_as_a_node() {
        let two = ids(2);
        let r = root(&two);
        // the concatenation of the two leaf hashes, offered as a single leaf, must not
        // produce the same root
        let l0 = leaf_hash(&two[0]);
        let fake = EventId(sha256_parts(&[l0.as_bytes()]).0);
        assert_ne!(root(&[fake]), r);
    }

    #[test]
    fn proofs_from_chunks_and_stored_levels_match_whole_tree_proofs() {
        for n in 1..140 {
            let leaves = ids(n);
            let tree = Tree::new(&leaves);
            let upper = tree.upper_levels();
            assert_eq!(upper.len(), upper_levels_len(n), "n = {n}");
            for i in 0..n {
                let start = i / CHUNK * CHUNK;
                let chunk = &leaves[start..n.min(start + CHUNK)];
                let proof = prove_from_parts(n, i, chunk, &upper).unwrap();
                assert_eq!(Some(&proof), tree.prove(i).as_ref(), "n = {n}, i = {i}");
            }
            // parts that do not fit are refused, not misread
            let first_chunk = &leaves[..CHUNK.min(n)];
            assert!(prove_from_parts(n, n, first_chunk, &upper).is_none());
            let mut longer = upper.clone();
            longer.push(0);
            assert!(prove_from_parts(n, 0, first_chunk, &longer).is_none());
            if n > 1 {
                assert!(prove_from_parts(n, 0, &first_chunk[1..], &upper).is_none());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_leaf_proves_and_wrong_ones_do_not(n in 1usize..130, pick in any::<prop::sample::Index>(), other in any::<prop::sample::Index>()) {
            let leaves = ids(n);
            let r = root(&leaves);
            let i = pick.index(n);
            for (j, leaf) in leaves.iter().enumerate() {
                let proof = prove(&leaves, j).unwrap();
                prop_assert!(proof.verify(leaf, &r));
            }
            let proof = prove(&leaves, i).unwrap();
            // a different leaf at this index fails
            let wrong = EventId(sha256(b"not in the tree").0);
            prop_assert!(!proof.verify(&wrong, &r));
            // the right leaf at a wrong index fails
            let j = other.index(n);
            if j != i && leaves[j] != leaves[i] {
                let mut moved = proof.clone();
                moved.index = j as u64;
                prop_assert!(!moved.verify(&leaves[i], &r));
            }
            // an index past the claimed size is refused
            let mut past = proof.clone();
            past.index = past.size;
            prop_assert!(!past.verify(&leaves[i], &r));
            // a wrong root fails
            prop_assert!(!proof.verify(&leaves[i], &sha256(b"other root")));
            // out of range is refused
            prop_assert!(prove(&leaves, n).is_none());
        }
    }
}
