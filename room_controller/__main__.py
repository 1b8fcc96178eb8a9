import sys

from room_controller.cli import main

sys.exit(main())
