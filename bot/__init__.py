"""Newsdesk front ends: command line, REPL, Discord, question-set runner. Knows nothing of FAISS."""
