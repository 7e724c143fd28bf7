"""The pages' scripts and styles, served as they are at /static (plain JavaScript and CSS, no build step).

A package only so that the files ship inside Shopdesk's wheel and are found where it is installed
(app/pages.py locates them through importlib.resources); nothing here is Python to import.
"""
