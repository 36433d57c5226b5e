import sys

from tools.doctor.cli import main

sys.exit(main())
