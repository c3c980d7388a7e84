//! `livedesk`: run the server, apply migrations, rebuild read models,
//! manage API tokens, invite agents, create sites, export events and
//! reports.

use clap::Parser;
use livedesk::config::{Cli, Command, EventsCommand, ProjectionsCommand};
use livedesk::{database, demo, export, people, reports, startup, tokens};

/// mimalloc: with glibc's allocator, `malloc` and `free` were a fifth of
/// the CPU time of a read-model rebuild.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    startup::init_tracing();
    let result = match cli.command {
        Command::Serve(serve) => startup::serve(&cli.database, &serve).await,
        Command::Demo { visitors, serve } => demo::run(&cli.database, &serve, visitors).await,
        Command::Migrate => database::connect_and_migrate(&cli.database).await.map(|_| ()),
        Command::Projections(ProjectionsCommand::Rebuild { name }) => {
            startup::rebuild_projections(&cli.database, name.as_deref()).await
        }
        Command::Tokens(command) => tokens::run(&cli.database, command).await,
        Command::Agents(command) => people::agents(&cli.database, command).await,
        Command::Sites(command) => people::sites(&cli.database, command).await,
        Command::Events(EventsCommand::Export(args)) => export::command(&cli.database, &args).await,
        Command::Reports(command) => reports::command(&cli.database, &command).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("livedesk: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
