"""`python -m sales_pipeline.dashboard --warehouse FILE`, as `make report` runs it."""

import sys

from sales_pipeline.dashboard import main

sys.exit(main())
