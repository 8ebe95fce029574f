//! Integration tests of the checker crate, one module per topic.

mod corpus;
