"""Doctor: a live diagnosis of a stack that `pulumi up` built.

It walks the chain Argo CD's repo-server uses to read a private Azure DevOps repository, in the order a token
flows (cluster issuer → federated credential → service account and pods → Entra token exchange → Azure DevOps
→ Argo CD's own view), prints one line per link and, for a broken one, its cause and the exact fix.
Run it with `scripts/doctor [stack]`; see docs/doctor.md.
"""
