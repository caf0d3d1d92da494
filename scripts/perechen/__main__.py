"""``python -m perechen``: the same command as ``perechen`` (the Windows task runs it this way)."""

from perechen.cli import main

if __name__ == "__main__":
    main(prog_name="perechen")
