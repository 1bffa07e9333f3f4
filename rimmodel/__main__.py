import sys

from rimmodel.cli import main

sys.exit(main())
