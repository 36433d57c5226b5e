"""The component package's plugin: serves the components to Pulumi programs in any language.

Pulumi runs this file when a program has added the package, e.g.
`pulumi package add github.com/<owner>/<repository>.git/components@<tag>`; the schema (types, inputs, outputs,
descriptions) is inferred from the components' type annotations and docstrings.
"""

import sys
from pathlib import Path

# The plugin directory is components/ itself; its modules import each other as `components.<module>`.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pulumi.provider.experimental import component_provider_host

from components.package import COMPONENTS, PACKAGE, PACKAGE_VERSION

if __name__ == "__main__":
    component_provider_host(name=PACKAGE, components=list(COMPONENTS), version=PACKAGE_VERSION)
