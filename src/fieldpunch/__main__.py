from fieldpunch.cli import app

app(prog_name="fieldpunch")
