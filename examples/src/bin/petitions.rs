//! `petitions --config examples/petitions/config.toml` (settings in `petitions.toml` beside it):
//! see [`civic_examples::petitions`].

fn main() -> std::process::ExitCode {
    civic_examples::run_with(
        civic_examples::petitions::NAME,
        civic_examples::petitions::app,
    )
}
