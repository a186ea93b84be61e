from bbpe.cli import run

run()
