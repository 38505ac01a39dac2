"""Example handlers the lessons use (`handler: esmlab.examples.handlers:NAME`)."""
