//! Integration tests of the checker crate, one module per topic.

mod broadcast_props;
mod corpus;
mod differential;
mod golden;
mod lin_props;
mod lin_witness;
mod robustness;
mod txn_elle;
mod txn_planted;
