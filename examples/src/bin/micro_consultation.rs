//! `micro_consultation --config examples/micro_consultation/config.toml`: see [`civic_examples::micro_consultation`].

fn main() -> std::process::ExitCode {
    civic_examples::run(
        civic_examples::micro_consultation::NAME,
        civic_examples::micro_consultation::app,
    )
}
