//! One file per `pedigree` subcommand.

pub mod audit;
pub mod barcode;
pub mod bench;
pub mod bench_network;
pub mod bench_recall;
pub mod bench_verify;
pub mod consortium;
pub mod epcis;
pub mod init;
pub mod keys;
pub mod label;
pub mod serve;
pub mod token;
pub mod transfer;
pub mod up;
