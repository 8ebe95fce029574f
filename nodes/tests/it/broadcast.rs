//! Broadcast binaries under scripted conversations.
