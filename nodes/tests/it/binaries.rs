//! echo, unique-ids and g-counter binaries under scripted conversations.
