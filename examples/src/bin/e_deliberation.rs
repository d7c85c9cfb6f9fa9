//! `e_deliberation --config examples/e_deliberation/config.toml`: see [`civic_examples::e_deliberation`].

fn main() -> std::process::ExitCode {
    civic_examples::run(
        civic_examples::e_deliberation::NAME,
        civic_examples::e_deliberation::app,
    )
}
