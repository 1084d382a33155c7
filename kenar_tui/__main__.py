import sys

from kenar_tui.cli import main

sys.exit(main())
