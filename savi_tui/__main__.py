import sys

from savi_tui.cli import main

sys.exit(main())
