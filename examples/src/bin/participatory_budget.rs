//! `participatory_budget --config examples/participatory_budget/config.toml`: see [`civic_examples::participatory_budget`].

fn main() -> std::process::ExitCode {
    civic_examples::run(
        civic_examples::participatory_budget::NAME,
        civic_examples::participatory_budget::app,
    )
}
