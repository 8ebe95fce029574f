//! `g-counter`: `add {delta}` and `read`, stored in the `seq-kv` service. See
//! `nodes::g_counter`.

fn main() -> std::process::ExitCode {
    nodes::catalog::main("g-counter")
}
