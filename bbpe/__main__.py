import sys

from bbpe.cli import main

sys.exit(main())
