"""The seed's build-server simulation, run by ``isoqube demo``.

``isoqube.demo.services`` holds the consumers (three Python services and a
C++ Linux pool module), ``configuration`` the run definition through
ingestion, builds and deployment, and ``runner`` what the command does.
"""
