//! `livedesk`: run the server, apply migrations.

use clap::Parser;
use livedesk::config::{Cli, Command};
use livedesk::{database, startup};

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    startup::init_tracing();
    let result = match cli.command {
        Command::Serve(serve) => startup::serve(&cli.database, &serve).await,
        Command::Migrate => database::connect_and_migrate(&cli.database).await.map(|_| ()),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("livedesk: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
