"""Every CLI test runs on its own config (or the embedded defaults), never on
an installed /etc/mugai/mugaid.cf: MUGAI_CONFIG empty means embedded defaults."""
import os

os.environ.setdefault("MUGAI_CONFIG", "")
