-- Each block keeps the nodes of its Merkle tree above the chunks of four events, so an
-- event proves without reading its whole block. Blocks stored before have none and prove
-- from the whole block.
ALTER TABLE blocks ADD COLUMN tree bytea;
