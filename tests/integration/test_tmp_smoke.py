from checks import model as m
from checks.dns import MailResolver
from checks.config import DnsConfig
from .mailstack import DOMAIN, NXDOMAIN_DOMAIN, NULL_MX_DOMAIN

async def test_smoke(unbound, postfix):
    r = MailResolver(DnsConfig(nameservers=("127.0.0.1",), port=unbound.port, timeout=1, lifetime=3))
    print(await r.mail_hosts(DOMAIN)); print(await r.mail_hosts(NXDOMAIN_DOMAIN)); print(await r.mail_hosts(NULL_MX_DOMAIN))
    assert postfix.greets()
    print(postfix.base, postfix.port)
