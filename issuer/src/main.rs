//! The `civic-issuer` command.

fn main() -> std::process::ExitCode {
    civic_issuer::cli::main()
}
