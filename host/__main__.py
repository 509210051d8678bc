import sys

from clapsep.host.cli import main

sys.exit(main())
