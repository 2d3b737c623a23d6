"""The command line: one typer app, one asyncio bridge."""
