"""``python -m perechen``: the same command as ``perechen`` (the Windows task runs it this way)."""

from perechen.cli import run

if __name__ == "__main__":
    run()
