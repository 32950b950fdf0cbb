import sys

from mcof.cli import main

sys.exit(main())
