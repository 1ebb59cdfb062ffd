//! A template evaluator process on its own: `aura-evaluate <memory MB>`. The engine's tests
//! start this one; the server starts itself with `__evaluate` instead.

fn main() -> std::process::ExitCode {
    aura_engine::serve_evaluations(std::env::args().skip(1))
}
