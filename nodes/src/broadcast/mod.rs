//! The broadcast algorithms of the course.
