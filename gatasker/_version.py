"""The package's version, in a module of its own.

Modules inside the package (the supervisor's inspect snapshot, contrib)
read it from here: importing it from the package root would make the root,
and with it every module, part of an import cycle.
"""

__version__ = '0.1.0'
