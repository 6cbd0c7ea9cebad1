"""The desktop window (PySide6 + qasync): the only package that imports Qt."""
