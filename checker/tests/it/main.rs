//! Integration tests of the checker crate, one module per topic.

mod broadcast_props;
mod corpus;
mod golden;
mod lin_props;
