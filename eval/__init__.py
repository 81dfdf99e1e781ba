"""Offline evaluation of answers against facts taken from the documents."""
