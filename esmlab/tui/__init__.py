"""The Textual face of esmlab. Imported only by the CLI's default command,
never by the engine (a test checks that `esmlab.lab` does not pull Textual in)."""
