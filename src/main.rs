//! The `senco-oversight` binary: parse the command line, load configuration, start logging,
//! and hand over to `api`.

use api::cli::{self, Command};
use api::config::Config;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = cli::parse_args();
    let command = args.command.unwrap_or(Command::Serve);
    if let Command::Schema = command {
        // Printing the schema needs no configuration, database or key.
        print!("{}", api::graphql::sdl());
        return Ok(());
    }
    let _ = dotenvy::dotenv();
    cli::init_tracing();
    let config = Config::from_env().map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
    match cli::run(command, config).await {
        Err(e) if e.downcast_ref::<cli::WrongFile>().is_some() => {
            eprintln!("Error: {e}");
            std::process::exit(2);
        }
        other => other,
    }
}
