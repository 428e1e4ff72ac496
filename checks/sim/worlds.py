"""Ready-made simulated worlds: the catalogue (every behaviour, one agency per case) and the nation.

`catalogue_world()` is the engine's acceptance fixture: each agency plays one behaviour of DOMAIN.md
and `World.expected` / `CATALOGUE_FLAGS` say which group and flags a correct engine gives it. It
includes the three real Tak rows exactly as printed in the DLA letter.

`national_world()` is a deterministic country of 8,286 agencies whose expected group mix matches
OPDC's published counts, dominated (as in reality) by one very large shared mail host
(`mx.dla.go.th`) plus a long tail of small ones. It is for load, politeness and console demos.

Expectations assume the engine settings `SimInternet.engine_config()` produces (retry_delay >= 1 s,
so a 0.5 s greylist is passed on retry and a 3,600 s one is not) and the project's default policy
with `PolicyConfig.kind_allowances = {"มหาวิทยาลัยของรัฐ": ("ac.th",)}`.

Flags: every catalogue host offers STARTTLS unless the case is about its absence, because a host
without `starttls=True` makes a correct engine add the `no_starttls` flag. The national world mixes
both (its flags are not asserted).
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field, replace

from checks.model import Agency
from checks.sim.world import (
    DNS_A_ONLY,
    DNS_GARBAGE,
    DNS_MX,
    DNS_NO_ANSWER,
    DNS_NO_RECORDS,
    DNS_NULL_MX,
    DNS_NXDOMAIN,
    DNS_SERVFAIL,
    DNS_TRUNCATED,
    HOST_CLOSE_MID_REPLY,
    HOST_DRIP,
    HOST_GARBAGE,
    HOST_GREETING_421,
    HOST_HUGE_LINE,
    HOST_REFUSE,
    HOST_SILENT,
    MAILBOX_BLOCKS_PROBER,
    MAILBOX_DISABLED,
    MAILBOX_FULL,
    MAILBOX_OK,
    DomainSpec,
    HostSpec,
    World,
)

# Kinds (ประเภทหน่วยงาน)
KIND_SAO = "องค์การบริหารส่วนตำบล"
KIND_TAMBON_MUNICIPALITY = "เทศบาลตำบล"
KIND_TOWN_MUNICIPALITY = "เทศบาลเมือง"
KIND_CITY_MUNICIPALITY = "เทศบาลนคร"
KIND_PAO = "องค์การบริหารส่วนจังหวัด"
KIND_GOVERNMENT = "ส่วนราชการ"
KIND_PROVINCIAL_OFFICE = "ราชการส่วนภูมิภาค"
KIND_BANGKOK = "กรุงเทพมหานคร"
KIND_UNIVERSITY = "มหาวิทยาลัยของรัฐ"
LOCAL_KINDS: tuple[str, ...] = (
    KIND_SAO, KIND_TAMBON_MUNICIPALITY, KIND_TOWN_MUNICIPALITY, KIND_CITY_MUNICIPALITY, KIND_PAO
)

DLA_DOMAIN = "dla.go.th"
DLA_HOST = "mx.dla.go.th"
CANARY_NAME = "canary.opdc.go.th"

# OPDC's published mix (letter นร ๑๒๐๐/ว๗๕): 8,286 agencies, 7,842 of them local units.
NATIONAL_TOTAL = 8286
NATIONAL_LOCAL = 7842
NATIONAL_DISTRICTS = 878
NATIONAL_DLA_AGENCIES = 5000  # agencies whose declared address is on dla.go.th
# Group counts at full scale; they sum to 8,286 (A = A1 + A2 = 6,536; B..E = 1,454; W = 296).
NATIONAL_GROUPS: dict[str, int] = {
    "W": 296,
    "C": 120,
    "B3": 180,
    "B1": 300,
    "B2": 90,
    "D1": 150,
    "D2": 170,
    "D3": 400,
    "E": 44,
    "A": 6536,
}

_THAI_DIGITS = str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙")

# The 77 provinces (จังหวัด) with the romanisation used in their domains.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("กรุงเทพมหานคร", "bangkok"), ("กระบี่", "krabi"), ("กาญจนบุรี", "kanchanaburi"),
    ("กาฬสินธุ์", "kalasin"), ("กำแพงเพชร", "kamphaengphet"), ("ขอนแก่น", "khonkaen"),
    ("จันทบุรี", "chanthaburi"), ("ฉะเชิงเทรา", "chachoengsao"), ("ชลบุรี", "chonburi"),
    ("ชัยนาท", "chainat"), ("ชัยภูมิ", "chaiyaphum"), ("ชุมพร", "chumphon"), ("เชียงราย", "chiangrai"),
    ("เชียงใหม่", "chiangmai"), ("ตรัง", "trang"), ("ตราด", "trat"), ("ตาก", "tak"),
    ("นครนายก", "nakhonnayok"), ("นครปฐม", "nakhonpathom"), ("นครพนม", "nakhonphanom"),
    ("นครราชสีมา", "nakhonratchasima"), ("นครศรีธรรมราช", "nakhonsithammarat"),
    ("นครสวรรค์", "nakhonsawan"), ("นนทบุรี", "nonthaburi"), ("นราธิวาส", "narathiwat"), ("น่าน", "nan"),
    ("บึงกาฬ", "buengkan"), ("บุรีรัมย์", "buriram"), ("ปทุมธานี", "pathumthani"),
    ("ประจวบคีรีขันธ์", "prachuapkhirikhan"), ("ปราจีนบุรี", "prachinburi"), ("ปัตตานี", "pattani"),
    ("พระนครศรีอยุธยา", "ayutthaya"), ("พะเยา", "phayao"), ("พังงา", "phangnga"), ("พัทลุง", "phatthalung"),
    ("พิจิตร", "phichit"), ("พิษณุโลก", "phitsanulok"), ("เพชรบุรี", "phetchaburi"),
    ("เพชรบูรณ์", "phetchabun"), ("แพร่", "phrae"), ("ภูเก็ต", "phuket"), ("มหาสารคาม", "mahasarakham"),
    ("มุกดาหาร", "mukdahan"), ("แม่ฮ่องสอน", "maehongson"), ("ยโสธร", "yasothon"), ("ยะลา", "yala"),
    ("ร้อยเอ็ด", "roiet"), ("ระนอง", "ranong"), ("ระยอง", "rayong"), ("ราชบุรี", "ratchaburi"),
    ("ลพบุรี", "lopburi"), ("ลำปาง", "lampang"), ("ลำพูน", "lamphun"), ("เลย", "loei"),
    ("ศรีสะเกษ", "sisaket"), ("สกลนคร", "sakonnakhon"), ("สงขลา", "songkhla"), ("สตูล", "satun"),
    ("สมุทรปราการ", "samutprakan"), ("สมุทรสงคราม", "samutsongkhram"), ("สมุทรสาคร", "samutsakhon"),
    ("สระแก้ว", "sakaeo"), ("สระบุรี", "saraburi"), ("สิงห์บุรี", "singburi"), ("สุโขทัย", "sukhothai"),
    ("สุพรรณบุรี", "suphanburi"), ("สุราษฎร์ธานี", "suratthani"), ("สุรินทร์", "surin"),
    ("หนองคาย", "nongkhai"), ("หนองบัวลำภู", "nongbualamphu"), ("อ่างทอง", "angthong"),
    ("อำนาจเจริญ", "amnatcharoen"), ("อุดรธานี", "udonthani"), ("อุตรดิตถ์", "uttaradit"),
    ("อุทัยธานี", "uthaithani"), ("อุบลราชธานี", "ubonratchathani"),
)
BANGKOK = "กรุงเทพมหานคร"
# Tak's real districts (อำเภอ), so the Tak rows of the DLA letter sit among real neighbours.
TAK_DISTRICTS: tuple[str, ...] = (
    "เมืองตาก", "บ้านตาก", "สามเงา", "แม่ระมาด", "ท่าสองยาง", "แม่สอด", "พบพระ", "อุ้มผาง", "วังเจ้า",
)
BANGKOK_DISTRICTS: tuple[str, ...] = ("พระนคร", "ดุสิต", "ปทุมวัน", "พญาไท", "ราชเทวี", "จตุจักร", "หลักสี่", "บางเขน")

# Place-name parts (Thai, romanisation): names are built as first + second (+ third).
_FIRST: tuple[tuple[str, str], ...] = (
    ("หนอง", "nong"), ("ทุ่ง", "thung"), ("ท่า", "tha"), ("บ้าน", "ban"), ("ดอน", "don"), ("วัง", "wang"),
    ("ป่า", "pa"), ("ห้วย", "huai"), ("โคก", "khok"), ("คลอง", "khlong"), ("บาง", "bang"), ("แม่", "mae"),
    ("เขา", "khao"), ("ดง", "dong"), ("ลาด", "lat"), ("หัว", "hua"), ("กุด", "kut"), ("เวียง", "wiang"),
    ("ลำ", "lam"), ("ปาง", "pang"), ("สระ", "sa"), ("นา", "na"), ("โนน", "non"), ("หนองหญ้า", "nongya"),
)
_SECOND: tuple[tuple[str, str], ...] = (
    ("บัว", "bua"), ("หลวง", "luang"), ("ใหม่", "mai"), ("โป่ง", "pong"), ("แก้ว", "kaeo"), ("ชัย", "chai"),
    ("สัก", "sak"), ("ทอง", "thong"), ("หิน", "hin"), ("ไผ่", "phai"), ("ยาง", "yang"), ("มะม่วง", "mamuang"),
    ("ขาม", "kham"), ("โพธิ์", "pho"), ("ไทร", "sai"), ("ตาล", "tan"), ("แดง", "daeng"), ("ขาว", "khao"),
    ("เขียว", "khiao"), ("ตะเคียน", "takhian"), ("สูง", "sung"), ("กลาง", "klang"), ("ทราย", "sai"),
    ("งาม", "ngam"), ("สำราญ", "samran"), ("เจริญ", "charoen"), ("สวรรค์", "sawan"), ("พลับ", "phlap"),
    ("กระทุ่ม", "krathum"), ("ขี้เหล็ก", "khilek"), ("ค้อ", "kho"), ("เลา", "lao"), ("จิก", "chik"),
    ("ปลาดุก", "pladuk"), ("น้ำใส", "namsai"),
)
_THIRD: tuple[tuple[str, str], ...] = (
    ("เหนือ", "nuea"), ("ใต้", "tai"), ("พัฒนา", "phatthana"), ("สามัคคี", "samakkhi"), ("น้อย", "noi"),
    ("ใหญ่", "yai"), ("ตะวันออก", "tawanok"), ("ตะวันตก", "tawantok"),
)

# Central agencies in Bangkok (name, domain); none is one edit away from a well-known domain.
CENTRAL_AGENCIES: tuple[tuple[str, str], ...] = (
    ("กรุงเทพมหานคร", "bangkok.go.th"),
    ("กรมส่งเสริมการปกครองท้องถิ่น", "dla.go.th"),
    ("สำนักงานคณะกรรมการพัฒนาระบบราชการ", "opdc.go.th"),
    ("กรมการปกครอง", "dopa.go.th"),
    ("สำนักงานปลัดกระทรวงมหาดไทย", "moi.go.th"),
    ("กรมการพัฒนาชุมชน", "cdd.go.th"),
    ("สำนักงานปลัดกระทรวงสาธารณสุข", "moph.go.th"),
    ("กรมโยธาธิการและผังเมือง", "dpt.go.th"),
    ("กรมป้องกันและบรรเทาสาธารณภัย", "disaster.go.th"),
    ("กรมบัญชีกลาง", "cgd.go.th"),
    ("กรมควบคุมโรค", "ddc.moph.go.th"),
    ("กรมอนามัย", "anamai.moph.go.th"),
    ("กรมอุตุนิยมวิทยา", "tmd.go.th"),
    ("กรมชลประทาน", "rid.go.th"),
    ("กรมสุขภาพจิต", "dmh.go.th"),
    ("กรมการแพทย์", "dms.go.th"),
    ("กรมทางหลวงชนบท", "drr.go.th"),
    ("กรมการจัดหางาน", "doe.go.th"),
    ("กรมพัฒนาฝีมือแรงงาน", "dsd.go.th"),
    ("กรมสวัสดิการและคุ้มครองแรงงาน", "labour.go.th"),
    ("กรมศุลกากร", "customs.go.th"),
    ("กรมสรรพสามิต", "excise.go.th"),
    ("กรมธนารักษ์", "treasury.go.th"),
    ("กรมพัฒนาที่ดิน", "ldd.go.th"),
    ("กรมส่งเสริมการเกษตร", "doae.go.th"),
    ("กรมประมง", "fisheries.go.th"),
    ("กรมป่าไม้", "forest.go.th"),
    ("กรมอุทยานแห่งชาติ สัตว์ป่า และพันธุ์พืช", "dnp.go.th"),
    ("กรมทรัพยากรน้ำ", "dwr.go.th"),
    ("กรมควบคุมมลพิษ", "pcd.go.th"),
    ("กรมศิลปากร", "finearts.go.th"),
    ("กรมพลศึกษา", "dpe.go.th"),
    ("กรมสอบสวนคดีพิเศษ", "dsi.go.th"),
    ("กรมราชทัณฑ์", "correct.go.th"),
    ("กรมคุมประพฤติ", "probation.go.th"),
    ("กรมพัฒนาธุรกิจการค้า", "dbd.go.th"),
    ("กรมเจ้าท่า", "md.go.th"),
    ("กรมอุตสาหกรรมพื้นฐานและการเหมืองแร่", "dpim.go.th"),
    ("สำนักงานสถิติแห่งชาติ", "nso.go.th"),
    ("สำนักงานคณะกรรมการกฤษฎีกา", "krisdika.go.th"),
    ("สำนักเลขาธิการคณะรัฐมนตรี", "soc.go.th"),
    ("สำนักงานคณะกรรมการข้าราชการพลเรือน", "ocsc.go.th"),
    ("กรมประชาสัมพันธ์", "prd.go.th"),
    ("กรมสนธิสัญญาและกฎหมาย", "treaty.mfa.go.th"),
    ("กรมการกงสุล", "consular.mfa.go.th"),
)
# Provincial offices of central agencies (name prefix + province, department domain, covered by the
# parent's announcement → A2). The provincial hall (ศาลากลางจังหวัด) has its own announcement (A1).
PROVINCIAL_OFFICES: tuple[tuple[str, str], ...] = (
    ("สำนักงานพัฒนาชุมชนจังหวัด", "cdd.go.th"),
    ("สำนักงานสาธารณสุขจังหวัด", "moph.go.th"),
    ("ที่ทำการปกครองจังหวัด", "dopa.go.th"),
    ("สำนักงานส่งเสริมการปกครองท้องถิ่นจังหวัด", "dla.go.th"),
    ("สำนักงานโยธาธิการและผังเมืองจังหวัด", "dpt.go.th"),
)
_FREE_MAIL_HOSTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("gmail-smtp-in.l.google.com", ("gmail.com",)),
    ("hotmail-com.olc.protection.outlook.com", ("hotmail.com", "outlook.com", "hotmail.co.th")),
    ("mta7.am0.yahoodns.net", ("yahoo.com", "yahoo.co.th")),
)
_PROVIDERS: tuple[str, ...] = (
    "thaihosting", "siamdata", "netlandhost", "cloudthai", "inethost", "hostatom", "ruk-com", "zenhost",
    "tothost", "ntmail", "chaiyohost", "bangkokdc",
)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def thai_digits(text: str) -> str:
    """ASCII digits written as Thai digits (how an address with ๐–๙ reaches the lists)."""
    return text.translate(_THAI_DIGITS)


class _Builder:
    """Adds hosts, domains, mailboxes and agencies to a World, with unique loopback IPs."""

    def __init__(self) -> None:
        self.world = World()
        self._next_ip = 0

    def ip(self) -> str:
        """127.1.0.1, 127.1.0.2, ... (never 127.0.0.x: 127.0.0.1 is the DNS server, .53 a resolver)."""
        i = self._next_ip
        self._next_ip += 1
        return f"127.{1 + i // (256 * 254)}.{(i // 254) % 256}.{i % 254 + 1}"

    def host(self, name: str, **kwargs: object) -> HostSpec:
        spec = HostSpec(name=name, ip=self.ip(), **kwargs)  # type: ignore[arg-type]
        self.world.hosts[name] = spec
        return spec

    def domain(self, name: str, mode: str = DNS_MX, mx: tuple[tuple[int, str], ...] = (),
               a: tuple[str, ...] = ()) -> DomainSpec:
        spec = DomainSpec(name=name, mode=mode, mx=mx, a=a)
        self.world.domains[name] = spec
        return spec

    def mx_domain(self, name: str, *hosts: HostSpec) -> DomainSpec:
        return self.domain(name, DNS_MX, tuple((10 * (i + 1), h.name) for i, h in enumerate(hosts)))

    @staticmethod
    def mailbox(host: HostSpec, address: str, state: str = MAILBOX_OK) -> str:
        host.mailboxes[address.lower()] = state
        return address

    def agency(self, agency: Agency, expected: str) -> Agency:
        self.world.agencies.append(agency)
        self.world.expected[agency.id] = expected
        return agency

    def canary(self) -> None:
        """The canary name resolves to a normal host, so the TCP canary reaches a listener."""
        host = self.host(CANARY_NAME, starttls=True, banner="ESMTP canary")
        self.world.canary_name = CANARY_NAME
        self.world.canary_ip = host.ip


# ---------------------------------------------------------------------------------------------
# The three real Tak rows (tests/data/tak-2568.tsv)
# ---------------------------------------------------------------------------------------------


def tak_agencies() -> list[Agency]:
    """The three rows of the DLA letter for Tak (mail sent 07/10/2568), exactly as printed."""
    province = "ตาก"
    return [
        Agency(id="tak-47", seq="47", name="เทศบาลตำบลทุ่งหลวง", district="แม่ระมาด", province=province,
               kind=KIND_TAMBON_MUNICIPALITY, declared="saraban@tambonthungluang.co.th",
               announced=True, order_announced=True),
        Agency(id="tak-326", seq="326", name="องค์การบริหารส่วนตำบลท่าสายลวด", district="แม่สอด",
               province=province, kind=KIND_SAO, declared="Tasailuadmeasod@gmail.com",
               announced=True, order_announced=True),
        Agency(id="tak-636", seq="636", name="องค์การบริหารส่วนตำบลหนองบัวเหนือ", district="เมืองตาก",
               province=province, kind=KIND_SAO, declared="saraban_๖๖๓๐๑๙@dla.go.th",
               announced=True, order_announced=True),
    ]


# ---------------------------------------------------------------------------------------------
# The catalogue world
# ---------------------------------------------------------------------------------------------

# agency id → the flags a correct engine shows for it (filled at import, kept in step by catalogue_world)
CATALOGUE_FLAGS: dict[str, tuple[str, ...]] = {}


@dataclass(slots=True)
class _Case:
    """One catalogue agency: its id, expected group and flags, and how it is declared."""

    id: str
    group: str
    declared: str
    flags: tuple[str, ...] = ()
    kind: str = KIND_SAO
    upgraded: bool = False
    announced: bool = True
    parent: bool = False
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def catalogue_world() -> World:
    """Every behaviour the prober meets, one agency per case, with the expected group and flags."""
    b = _Builder()
    w = b.world
    b.canary()
    flags: dict[str, tuple[str, ...]] = {}
    names = _NameSource(random.Random(10))
    provinces = ("เชียงใหม่", "ขอนแก่น", "สงขลา", "นครราชสีมา", "ตาก", "อุบลราชธานี", "ชลบุรี", "พิษณุโลก")
    count = [0]

    def tambon_domain(slug: str, *hosts: HostSpec) -> str:
        domain = f"tambon{slug}.go.th"
        b.mx_domain(domain, *hosts)
        return domain

    def add(case_id: str, group: str, declared: str, case_flags: tuple[str, ...] = (), *,
            kind: str = KIND_SAO, upgraded: bool = False, announced: bool = True,
            parent: bool = False, name: str | None = None) -> None:
        i = count[0]
        count[0] += 1
        province = provinces[i % len(provinces)]
        thai, _slug = names.place()
        b.agency(
            Agency(
                id=case_id,
                seq=str(1001 + i),  # clear of the Tak rows' own numbers
                name=name if name is not None else _nfc(kind + thai),
                declared=declared,
                district=_nfc("เมือง" + province),
                province=province,
                kind=kind,
                phone=f"0{50 + i % 30}-{100 + i:03d}-{200 + i:03d}",
                upgraded=upgraded,
                parent_announcement=parent,
                announced=announced,
                order_announced=announced,
            ),
            group,
        )
        flags[case_id] = case_flags

    # Shared infrastructure: DLA's Postfix-like host, OPDC (our MAIL FROM domain), free mail.
    dla = b.host(DLA_HOST, starttls=True, pipelining=True, error_limit=20, banner="ESMTP Postfix")
    b.mx_domain(DLA_DOMAIN, dla)
    opdc = b.host("mail.opdc.go.th", starttls=True)
    b.mx_domain("opdc.go.th", opdc)
    b.mailbox(opdc, "saraban@opdc.go.th")
    b.mailbox(opdc, "saraban-probe@opdc.go.th")
    gmail = b.host("gmail-smtp-in.l.google.com", starttls=True, banner="mx.google.com ESMTP ready")
    b.mx_domain("gmail.com", gmail)
    hotmail = b.host("hotmail-co-th.olc.protection.outlook.com", starttls=True,
                     banner="Microsoft ESMTP MAIL Service ready")
    b.mx_domain("hotmail.co.th", hotmail)

    def working(slug: str, local: str = "saraban", **host_kwargs: object) -> tuple[str, HostSpec]:
        """A tambon domain on its own normal STARTTLS host with one existing mailbox."""
        host_kwargs.setdefault("starttls", True)
        host = b.host(f"mail.tambon{slug}.go.th", **host_kwargs)
        domain = tambon_domain(slug, host)
        return b.mailbox(host, f"{local}@{domain}"), host

    # --- the three real Tak rows ---
    tak47, tak326, tak636 = tak_agencies()
    b.domain("tambonthungluang.co.th", DNS_NXDOMAIN)
    b.agency(tak47, "B2")  # a company domain that does not even exist: B2, with domain_not_found
    flags[tak47.id] = ()
    b.agency(tak326, "B1")  # gmail exists; this mailbox does not: B1, with mailbox_not_found
    flags[tak326.id] = ()
    b.mailbox(dla, "saraban_663019@dla.go.th")
    b.agency(tak636, "B3")  # Thai digits; the ASCII form exists → suggested fix that works
    flags[tak636.id] = ("suggested_fix",)

    # --- W, C ---
    address, _ = working("upgraded")
    add("cat-w-upgraded", "W", address, upgraded=True)
    address = b.mailbox(dla, "saraban_570101@dla.go.th")
    add("cat-c-not-announced", "C", address, announced=False)
    add("cat-c-empty", "C", "")

    # --- B3: the declared text is not one valid address ---
    b.mailbox(dla, "saraban_501234@dla.go.th")
    add("cat-b3-thai-digits", "B3", "saraban_" + thai_digits("501234") + "@dla.go.th", ("suggested_fix",))
    add("cat-b3-thai-digits-dead", "B3", "saraban_" + thai_digits("509999") + "@dla.go.th",
        ("suggested_fix",))  # the fix is probed and does not work (unknown mailbox)
    address, host = working("songaddress")
    second = b.mailbox(host, address.replace("saraban@", "nayok@"))
    add("cat-b3-two-addresses", "B3", f"{address}, {second}", ("suggested_fix",))
    address, _ = working("mailto")
    add("cat-b3-mailto", "B3", f"mailto:{address}", ("suggested_fix",))
    address, _ = working("fullwidth")
    add("cat-b3-fullwidth-at", "B3", address.replace("@", "＠"), ("suggested_fix",))
    address, _ = working("spaces")
    add("cat-b3-spaces", "B3", address.replace("@", " @ "), ("suggested_fix",))
    add("cat-b3-missing-at", "B3", "saraban at tambonmissingat.go.th")
    # An injection attempt: no fix is derived, nothing from it may reach a mail server.
    address, _ = working("crlf")
    add("cat-b3-crlf-injection", "B3", f"{address}\r\nRCPT TO:<victim@tamboncrlf.go.th>")

    # --- B1: personal free mail (probed all the same) ---
    address = b.mailbox(gmail, "saraban.tambonbanmai@gmail.com")
    add("cat-b1-gmail", "B1", address)
    address = b.mailbox(hotmail, "saraban.nongkhaem@hotmail.co.th")
    add("cat-b1-hotmail-co-th", "B1", address)

    # --- B2: not a government domain ---
    host = b.host("mail.tambonkhokklang.co.th", starttls=True)
    b.mx_domain("tambonkhokklang.co.th", host)
    add("cat-b2-company-works", "B2", b.mailbox(host, "saraban@tambonkhokklang.co.th"))
    b.domain("dla.go.tn", DNS_NXDOMAIN)
    add("cat-b2-typo-dla-go-tn", "B2", "saraban_664412@dla.go.tn", ("typo_suspect",))
    uni = b.host("mail.taksinuniversity.ac.th", starttls=True)
    b.mx_domain("taksinuniversity.ac.th", uni)
    b.mailbox(uni, "saraban@taksinuniversity.ac.th")
    add("cat-b2-acth-wrong-kind", "B2", b.mailbox(uni, "tambonprojects@taksinuniversity.ac.th"),
        kind=KIND_TAMBON_MUNICIPALITY)

    # --- D1, D2 ---
    b.domain("tambonnonsaowanee.go.th", DNS_NXDOMAIN)
    add("cat-d1-nxdomain", "D1", "saraban@tambonnonsaowanee.go.th")
    b.domain("tambonnullmx.go.th", DNS_NULL_MX)
    add("cat-d2-null-mx", "D2", "saraban@tambonnullmx.go.th")
    b.domain("tambonnorecords.go.th", DNS_NO_RECORDS)
    add("cat-d2-no-records", "D2", "saraban@tambonnorecords.go.th")
    b.domain("tambonghostmx.go.th", DNS_MX, ((10, "mail.tambonghostmx.go.th"),))  # MX name has no A
    add("cat-d2-mx-unresolvable", "D2", "saraban@tambonghostmx.go.th")
    r1 = b.host("mx1.tambonrefused.go.th", behaviour=HOST_REFUSE)
    r2 = b.host("mx2.tambonrefused.go.th", behaviour=HOST_REFUSE)
    b.mx_domain("tambonrefused.go.th", r1, r2)
    add("cat-d2-all-refuse", "D2", "saraban@tambonrefused.go.th")

    # --- D3: the mailbox is rejected permanently ---
    _, host = working("userunknown")
    add("cat-d3-unknown-user", "D3", "saraban2567@tambonuserunknown.go.th")  # 550 5.1.1
    address, host = working("disabled")
    b.mailbox(host, address, MAILBOX_DISABLED)  # 550 5.2.1
    add("cat-d3-disabled", "D3", address)
    address, host = working("overquota")
    b.mailbox(host, address, MAILBOX_FULL)  # 552 5.2.2
    add("cat-d3-over-quota", "D3", address)

    # --- E: only temporary or inconclusive answers ---
    address, _ = working("greylistlong", greylist_seconds=3600.0)
    add("cat-e-greylist-long", "E", address)
    address, _ = working("blocklisted", reject_prober=True)  # 554 5.7.1 to MAIL FROM
    add("cat-e-prober-blocked", "E", address, ("prober_blocked",))
    address, host = working("rcptpolicy")
    b.mailbox(host, address, MAILBOX_BLOCKS_PROBER)  # 550 5.7.1 to RCPT: about us, not the mailbox
    add("cat-e-rcpt-policy", "E", address, ("prober_blocked",))
    b.domain("tambonservfail.go.th", DNS_SERVFAIL)
    add("cat-e-dns-servfail", "E", "saraban@tambonservfail.go.th")
    b.domain("tambondnssilent.go.th", DNS_NO_ANSWER)
    add("cat-e-dns-timeout", "E", "saraban@tambondnssilent.go.th")
    b.domain("tambondnsgarbage.go.th", DNS_GARBAGE)
    add("cat-e-dns-garbage", "E", "saraban@tambondnsgarbage.go.th")
    b.domain("tambondnstruncated.go.th", DNS_TRUNCATED)
    add("cat-e-dns-truncated", "E", "saraban@tambondnstruncated.go.th")
    for case_id, slug, behaviour in (
        ("cat-e-silent-host", "silenthost", HOST_SILENT),
        ("cat-e-greeting-421", "greeting421", HOST_GREETING_421),
        ("cat-e-drip-banner", "dripbanner", HOST_DRIP),
        ("cat-e-huge-line", "hugeline", HOST_HUGE_LINE),
        ("cat-e-garbage-smtp", "garbagesmtp", HOST_GARBAGE),
        ("cat-e-close-mid-reply", "closemid", HOST_CLOSE_MID_REPLY),
    ):
        address, _ = working(slug, behaviour=behaviour)
        add(case_id, "E", address)

    # --- A1 / A2 ---
    address, _ = working("plain")
    add("cat-a1-plain", "A1", address)
    add("cat-a1-dla", "A1", b.mailbox(dla, "saraban_630101@dla.go.th"))
    address, _ = working("catchall", catch_all=True)
    add("cat-a1-catch-all", "A1", address, ("catch_all",))
    implicit = b.host("www.tambonimplicitmx.go.th", starttls=True)
    b.domain("tambonimplicitmx.go.th", DNS_A_ONLY, a=(implicit.ip,))
    add("cat-a1-implicit-mx", "A1", b.mailbox(implicit, "saraban@tambonimplicitmx.go.th"),
        ("implicit_mx",))
    address, _ = working("selfsignedtls")  # STARTTLS with a self-signed certificate: no flag
    add("cat-a1-starttls-self-signed", "A1", address)
    address, _ = working("nostarttls", starttls=False)
    add("cat-a1-no-starttls", "A1", address, ("no_starttls",))
    address, _ = working("greylistshort", greylist_seconds=0.5)  # passes on the first retry
    add("cat-a1-greylist-short", "A1", address)
    first = b.host("mx1.tambonsecondmx.go.th", behaviour=HOST_REFUSE)
    second_host = b.host("mx2.tambonsecondmx.go.th", starttls=True)
    b.mx_domain("tambonsecondmx.go.th", first, second_host)
    add("cat-a1-second-mx", "A1", b.mailbox(second_host, "saraban@tambonsecondmx.go.th"))
    address, _ = working("slowreplies", reply_delay=0.3)
    add("cat-a1-slow-host", "A1", address)
    address, _ = working("banner", banner="[bold]x[/] \x1b]2;pwned\x07 ESMTP")
    add("cat-a1-banner-markup", "A1", address)
    address, _ = working("uppercase")
    add("cat-a1-mixed-case", "A1", address.replace("saraban@tambonuppercase", "Saraban@TambonUpperCase"))
    add("cat-a1-university", "A1", "saraban@taksinuniversity.ac.th", kind=KIND_UNIVERSITY,
        name="มหาวิทยาลัยทักษิณตาก")
    address, _ = working("parent")
    add("cat-a2-parent", "A2", address, parent=True, kind=KIND_PROVINCIAL_OFFICE,
        name="สำนักงานพัฒนาชุมชนอำเภอเมือง")

    # A Postfix-like host (drops the session after 3 rejected RCPT) shared by many agencies, some of
    # whose mailboxes do not exist: a polite engine reopens sessions and still decides every one.
    postfix = b.host("mx.localgov-hosting.go.th", starttls=True, error_limit=3, banner="ESMTP Postfix")
    for i in range(14):
        _thai, slug = names.place()
        domain = f"tambon{slug}{i}.go.th"
        b.mx_domain(domain, postfix)
        address = f"saraban@{domain}"
        if i % 4 == 3:  # 3 of 14 unknown
            add(f"cat-postfix-{i:02d}", "D3", address, kind=KIND_TAMBON_MUNICIPALITY)
        else:
            b.mailbox(postfix, address)
            add(f"cat-postfix-{i:02d}", "A1", address, kind=KIND_TAMBON_MUNICIPALITY)

    # A Microsoft-like host (452 4.5.3 beyond 3 RCPT per session): "too many recipients" is about
    # the session, never the mailbox.
    msft = b.host("tambon-hosted.mail.protection.outlook.com", starttls=True, max_rcpt_per_session=3,
                  banner="Microsoft ESMTP MAIL Service ready")
    for i in range(6):
        domain = f"tambonmsft{i}.go.th"
        b.mx_domain(domain, msft)
        add(f"cat-msft-{i:02d}", "A1", b.mailbox(msft, f"saraban@{domain}"))

    CATALOGUE_FLAGS.clear()
    CATALOGUE_FLAGS.update(flags)
    return w


# ---------------------------------------------------------------------------------------------
# The national world
# ---------------------------------------------------------------------------------------------


class _NameSource:
    """Plausible Thai place names with a romanisation, from combined parts (deterministic)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def place(self) -> tuple[str, str]:
        rng = self.rng
        f = rng.choice(_FIRST)
        s = rng.choice(_SECOND)
        thai, roman = f[0] + s[0], f[1] + s[1]
        if rng.random() < 0.3:
            t = rng.choice(_THIRD)
            thai, roman = thai + t[0], roman + t[1]
        return _nfc(thai), roman


def _apportion(total: int, weights: dict[str, float]) -> dict[str, int]:
    """Split `total` in proportion to `weights` (largest remainder), summing exactly to `total`."""
    wsum = sum(weights.values())
    if total <= 0 or wsum <= 0:
        return dict.fromkeys(weights, 0)
    raw = {k: total * v / wsum for k, v in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    short = total - sum(out.values())
    for k in sorted(raw, key=lambda k: (-(raw[k] - out[k]), list(weights).index(k)))[:short]:
        out[k] += 1
    return out


@dataclass(slots=True)
class _Unit:
    """An agency identity before its address is decided."""

    name: str
    kind: str
    district: str
    province: str
    roman: str  # romanised place (or province) used in domains and local parts
    province_roman: str
    local: bool
    parent: bool = False
    domain: str = ""  # for non-local agencies: the agency's (or parent's) domain


def _geography(rng: random.Random) -> list[tuple[str, str, list[str]]]:
    """(province, romanisation, districts) for the 77 provinces; 878 districts outside Bangkok."""
    others = [p for p in PROVINCES if p[0] not in (BANGKOK, "ตาก")]
    weights = {p[0]: rng.uniform(0.4, 1.6) for p in others}
    counts = _apportion(NATIONAL_DISTRICTS - len(TAK_DISTRICTS), weights)
    names = _NameSource(rng)
    out: list[tuple[str, str, list[str]]] = []
    for thai, roman in PROVINCES:
        if thai == BANGKOK:
            out.append((thai, roman, list(BANGKOK_DISTRICTS)))
            continue
        if thai == "ตาก":
            out.append((thai, roman, list(TAK_DISTRICTS)))
            continue
        districts = [_nfc("เมือง" + thai)]
        while len(districts) < max(1, counts[thai]):
            name = names.place()[0]
            if name not in districts:
                districts.append(name)
        out.append((thai, roman, districts))
    return out


def _local_units(rng: random.Random, geo: list[tuple[str, str, list[str]]], n: int) -> list[_Unit]:
    """`n` local government units spread over the districts outside Bangkok."""
    slots: list[tuple[str, str, str]] = []  # (province, province roman, district)
    for province, roman, districts in geo:
        if province == BANGKOK:
            continue
        slots.extend((province, roman, d) for d in districts)
    weights = {str(i): rng.uniform(0.5, 1.5) for i in range(len(slots))}
    per_district = _apportion(n, weights)
    names = _NameSource(rng)
    units: list[_Unit] = []
    seen_province: set[str] = set()
    for i, (province, proman, district) in enumerate(slots):
        used: set[str] = set()
        for _ in range(per_district[str(i)]):
            if province not in seen_province and district.startswith("เมือง"):
                seen_province.add(province)
                units.append(_Unit(_nfc(KIND_PAO + province), KIND_PAO, district, province, proman,
                                   proman, True))
                continue
            r = rng.random()
            if r < 0.004:
                kind = KIND_CITY_MUNICIPALITY
            elif r < 0.03:
                kind = KIND_TOWN_MUNICIPALITY
            elif r < 0.32:
                kind = KIND_TAMBON_MUNICIPALITY
            else:
                kind = KIND_SAO
            thai, roman = names.place()
            while thai in used:
                thai, roman = names.place()
            used.add(thai)
            units.append(_Unit(_nfc(kind + thai), kind, district, province, roman, proman, True))
    return units


def _nonlocal_units(geo: list[tuple[str, str, list[str]]], n: int) -> list[_Unit]:
    """Central agencies in Bangkok, provincial halls (A1) and provincial offices (A2), interleaved."""
    central = [
        _Unit(_nfc(name), KIND_BANGKOK if domain == "bangkok.go.th" else KIND_GOVERNMENT,
              BANGKOK_DISTRICTS[i % len(BANGKOK_DISTRICTS)], BANGKOK, domain.split(".")[0], "bangkok",
              False, domain=domain)
        for i, (name, domain) in enumerate(CENTRAL_AGENCIES)
    ]
    provincial: list[_Unit] = []
    for office in range(len(PROVINCIAL_OFFICES) + 1):
        for province, roman, districts in geo:
            if province == BANGKOK:
                continue
            if office == 0:
                provincial.append(_Unit(_nfc("สำนักงานจังหวัด" + province), KIND_PROVINCIAL_OFFICE,
                                        districts[0], province, roman, roman, False,
                                        domain=f"{roman}.go.th"))
            else:
                prefix, domain = PROVINCIAL_OFFICES[office - 1]
                provincial.append(_Unit(_nfc(prefix + province), KIND_PROVINCIAL_OFFICE, districts[0],
                                        province, roman, roman, False, parent=True, domain=domain))
    pool = central + provincial
    if n <= len(pool):
        return pool[:n]
    extra = [
        _Unit(_nfc(f"{u.name} สาขา {k}"), u.kind, u.district, u.province, u.roman, u.province_roman,
              False, u.parent, u.domain)
        for k, u in enumerate((pool * (1 + n // len(pool)))[: n - len(pool)], start=2)
    ]
    return pool + extra


_SUBTYPES: dict[str, dict[str, float]] = {
    "W": {"w_dla": 0.7, "w_domain": 0.3},
    "C": {"c_not_announced": 0.5, "c_empty": 0.5},
    "B3": {"b3_thai_ok": 0.72, "b3_thai_dead": 0.06, "b3_two": 0.05, "b3_mailto": 0.04,
           "b3_fullwidth": 0.04, "b3_spaces": 0.04, "b3_missing_tld": 0.05},
    "B1": {"b1_gmail_ok": 0.45, "b1_gmail_unknown": 0.15, "b1_hotmail_ok": 0.2, "b1_hotmail_th_ok": 0.05,
           "b1_yahoo_ok": 0.1, "b1_yahoo_unknown": 0.05},
    "B2": {"b2_coth_ok": 0.4, "b2_coth_nx": 0.3, "b2_com_ok": 0.15, "b2_inth_ok": 0.15},
    "D1": {"d1": 1.0},
    "D2": {"d2_null_mx": 0.3, "d2_no_records": 0.2, "d2_ghost_mx": 0.2, "d2_refused": 0.3},
    "D3": {"d3_dla": 0.8, "d3_unknown": 0.1, "d3_disabled": 0.05, "d3_full": 0.05},
    "E": {"e_servfail": 0.3, "e_421": 0.2, "e_prober": 0.3, "e_greylist": 0.2},
}
_DLA_SUBTYPES = frozenset({"w_dla", "c_not_announced", "b3_thai_ok", "b3_thai_dead", "d3_dla", "a_dla"})


class _National:
    """Builds the national world; one instance per call (all randomness from one seeded RNG)."""

    def __init__(self, n: int, seed: int) -> None:
        self.n = n
        self.rng = random.Random(seed)
        self.b = _Builder()
        self.scale = n / NATIONAL_TOTAL
        self.codes: list[int] = []
        self.code_i = 0
        self.used_domains: set[str] = set()
        self.holders: dict[str, tuple[HostSpec, ...]] = {}  # domain → hosts that hold its mailboxes
        self.free_seq = 0

    # -- infrastructure --------------------------------------------------------------------------
    def serve(self, domain: str, hosts: tuple[HostSpec, ...], mode: str = DNS_MX,
              mx: tuple[tuple[int, str], ...] | None = None) -> None:
        """Create a domain whose mailboxes live on `hosts` (MX in that order unless `mx` is given)."""
        if mode == DNS_A_ONLY:
            self.b.domain(domain, DNS_A_ONLY, a=(hosts[0].ip,))
        else:
            self.b.domain(domain, mode, mx if mx is not None else
                          tuple((10 * (i + 1), h.name) for i, h in enumerate(hosts)))
        self.holders[domain] = hosts
        self.used_domains.add(domain)

    def put(self, domain: str, local: str, state: str = MAILBOX_OK) -> str:
        """A mailbox on every host of the domain; returns the address."""
        address = f"{local}@{domain}"
        for host in self.holders[domain]:
            self.b.mailbox(host, address, state)
        return address

    def build(self) -> World:
        rng, b = self.rng, self.b
        b.canary()
        self.dla = b.host(DLA_HOST, starttls=True, pipelining=True, error_limit=20, banner="ESMTP Postfix")
        self.serve(DLA_DOMAIN, (self.dla,))
        self.put(DLA_DOMAIN, "saraban")
        opdc = b.host("mail.opdc.go.th", starttls=True, banner="ESMTP Postfix")
        self.serve("opdc.go.th", (opdc,))
        self.put("opdc.go.th", "saraban-probe")
        self.free: dict[str, HostSpec] = {}
        for host_name, domains in _FREE_MAIL_HOSTS:
            host = b.host(host_name, starttls=True)
            for d in domains:
                self.serve(d, (host,))
        self.codes = rng.sample(range(100000, 1000000), self.n + 10)

        # the pool of small mail hosts, each serving a few domains
        n_hosts = max(4, round(300 * self.scale))
        self.pool: list[HostSpec] = []
        for i in range(n_hosts):
            provider = _PROVIDERS[i % len(_PROVIDERS)]
            self.pool.append(b.host(
                f"mx{i // len(_PROVIDERS) + 1}.{provider}.net",
                starttls=rng.random() < 0.75,
                pipelining=rng.random() < 0.8,
                catch_all=i > 0 and rng.random() < 0.06,
                error_limit=rng.choice((0, 0, 10, 20)),
                banner=rng.choice(("ESMTP Postfix", "ESMTP Exim 4.96", "Microsoft ESMTP MAIL Service ready",
                                   "ESMTP Sendmail", "ESMTP ready")),
            ))
        self.plain = [h for h in self.pool if not h.catch_all]
        self.refusers = [b.host(f"mx{i + 1}.offline-hosting.net", behaviour=HOST_REFUSE)
                         for i in range(max(2, round(24 * self.scale)))]
        self.greylist_short = b.host("mx.greylist-hosting.net", starttls=True, greylist_seconds=0.5)
        self.greylist_short_left = max(1, round(8 * self.scale))
        self.greylist_long = b.host("mx.slowgrey-hosting.net", starttls=True, greylist_seconds=3600.0)
        self.greeting_421 = b.host("mx.overloaded-hosting.net", behaviour=HOST_GREETING_421)

        # agencies
        n_local = round(self.n * NATIONAL_LOCAL / NATIONAL_TOTAL)
        geo = _geography(rng)
        local = _local_units(rng, geo, n_local)
        nonlocal_units = _nonlocal_units(geo, self.n - n_local)
        groups = _apportion(self.n, {k: float(v) for k, v in NATIONAL_GROUPS.items()})
        a_local = max(0, groups["A"] - len(nonlocal_units))
        slots: list[tuple[str, str]] = []  # (group, subtype) for local units
        for group, subtypes in _SUBTYPES.items():
            for sub, k in _apportion(groups[group], subtypes).items():
                slots.extend([(group, sub)] * k)
        dla_other = sum(1 for _, sub in slots if sub in _DLA_SUBTYPES) + sum(
            1 for u in nonlocal_units if u.domain == DLA_DOMAIN)
        a_dla = min(a_local, max(0, round(NATIONAL_DLA_AGENCIES * self.scale) - dla_other))
        slots.extend([("A", "a_dla")] * a_dla)
        slots.extend([("A", "a_domain")] * (a_local - a_dla))
        slots = slots[: len(local)]  # only differs for degenerate tiny worlds
        # W goes to SAOs (upgraded to municipalities) first; the other slots land anywhere.
        rng.shuffle(slots)
        rng.shuffle(local)
        w_slots = [s for s in slots if s[0] == "W"]
        other_slots = [s for s in slots if s[0] != "W"]
        by_kind = [u for u in local if u.kind == KIND_SAO] + [u for u in local if u.kind != KIND_SAO]
        w_units, others = by_kind[: len(w_slots)], by_kind[len(w_slots):]
        rng.shuffle(others)
        assigned = list(zip(w_units, w_slots, strict=False)) + list(zip(others, other_slots, strict=False))

        records: list[tuple[_Unit, str, str, bool]] = []  # unit, declared, expected group, announced
        shared: list[tuple[str, int]] = []  # A domains that take more agencies: (domain, room)
        for unit, (group, sub) in assigned:
            declared, announced = self.local_address(unit, sub, shared)
            records.append((unit, declared, "A1" if group == "A" else group, announced))
        for unit in nonlocal_units:
            records.append((unit, self.nonlocal_address(unit), "A2" if unit.parent else "A1", True))

        # Order and number like the national list the real rows come from: by province, district, and
        # ลำดับที่ 1..n over the whole list. The Tak letter's rows (47, 326, 636 in a province of ~70
        # local units) keep their number in that longer list; a province's own sheet shows its rows
        # with gaps. Numbering per province instead gives 77 rows "1", 77 rows "2"… in a national store.
        order = {p[0]: i for i, p in enumerate(PROVINCES)}
        records.sort(key=lambda r: (order[r[0].province], r[0].local, r[0].district, r[0].name))
        _copy_paste_names(records)
        for i, (unit, declared, expected, announced) in enumerate(records):
            b.agency(
                Agency(
                    id=f"nat-{i + 1:05d}",
                    seq=str(i + 1),
                    name=unit.name,
                    declared=declared,
                    district=unit.district,
                    province=unit.province,
                    kind=unit.kind,
                    phone=f"0{rng.randint(32, 77)}-{rng.randint(0, 999):03d}-{rng.randint(0, 999):03d}",
                    upgraded=expected == "W",
                    parent_announcement=unit.parent,
                    announced=announced,
                    order_announced=announced and rng.random() < 0.95,
                ),
                expected,
            )
        return b.world

    def code(self) -> str:
        c = self.codes[self.code_i]
        self.code_i += 1
        return str(c)

    def dla_mailbox(self, exists: bool = True) -> str:
        local = f"saraban_{self.code()}"
        if exists:
            return self.put(DLA_DOMAIN, local)
        return f"{local}@{DLA_DOMAIN}"

    def new_domain(self, unit: _Unit, suffix: str = "go.th") -> str:
        """A unique domain name for a unit: tambon<place>.go.th, tessaban<place>.go.th, ..."""
        if unit.kind == KIND_PAO:
            label = f"pao-{unit.province_roman}"
        elif unit.kind in (KIND_TOWN_MUNICIPALITY, KIND_CITY_MUNICIPALITY):
            label = f"{unit.roman}city"
        elif unit.kind == KIND_TAMBON_MUNICIPALITY:
            label = f"tessaban{unit.roman}"
        else:
            label = f"tambon{unit.roman}"
        domain = f"{label}.{suffix}"
        if domain in self.used_domains:
            domain = f"{label}-{unit.province_roman}.{suffix}"
        k = 2
        while domain in self.used_domains:
            domain = f"{label}{k}.{suffix}"
            k += 1
        self.used_domains.add(domain)
        return domain

    def on_pool(self, domain: str, varied: bool = True) -> None:
        """MX records on the small-host pool: mostly one host; some two, some refuse-first, some A only."""
        rng = self.rng
        host = rng.choice(self.pool)
        r = rng.random() if varied else 1.0
        if r < 0.05:  # the first MX refuses, the second works
            self.serve(domain, (host,), mx=((10, rng.choice(self.refusers).name), (20, host.name)))
        elif r < 0.15:  # two working MX holding the same mailboxes
            backup = rng.choice([h for h in self.pool if h is not host] or [host])
            self.serve(domain, (host, backup) if backup is not host else (host,))
        elif r < 0.18:  # implicit MX: only an A record, pointing at the host
            self.serve(domain, (host,), mode=DNS_A_ONLY)
        else:
            self.serve(domain, (host,))

    def working_address(self, unit: _Unit, shared: list[tuple[str, int]] | None = None) -> str:
        """An address that works, on a new small domain or one shared with a few other agencies."""
        rng = self.rng
        if shared and rng.random() < 0.6:
            i = rng.randrange(len(shared))
            domain, room = shared[i]
            if room <= 1:
                shared.pop(i)
            else:
                shared[i] = (domain, room - 1)
            return self.put(domain, f"saraban.{unit.roman}")
        domain = self.new_domain(unit)
        if self.greylist_short_left > 0 and rng.random() < 0.02:
            self.greylist_short_left -= 1
            self.serve(domain, (self.greylist_short,))
        else:
            self.on_pool(domain)
        if shared is not None and rng.random() < 0.5:
            shared.append((domain, rng.randint(1, 4)))
        return self.put(domain, "saraban")

    def own_domain_on(self, unit: _Unit, host: HostSpec, state: str | None = MAILBOX_OK) -> str:
        domain = self.new_domain(unit)
        self.serve(domain, (host,))
        if state is None:
            return f"saraban@{domain}"
        return self.put(domain, "saraban", state)

    def free_address(self, unit: _Unit, domain: str, exists: bool) -> str:
        self.free_seq += 1
        local = f"{unit.roman}{self.free_seq}"
        return self.put(domain, local) if exists else f"{local}@{domain}"

    # -- addresses per subtype --------------------------------------------------------------------
    def local_address(self, unit: _Unit, sub: str, shared: list[tuple[str, int]]) -> tuple[str, bool]:
        """The declared address (and whether the announcement exists) for one local unit."""
        if sub.startswith(("a_", "w_", "c_", "b3_")):
            return self.written_address(unit, sub, shared)
        if sub.startswith(("b1_", "b2_")) or sub == "d1":
            return self.other_domain_address(unit, sub), True
        return self.broken_address(unit, sub), True

    def written_address(self, unit: _Unit, sub: str, shared: list[tuple[str, int]]) -> tuple[str, bool]:
        """A (W), C and the B3 ways of writing a working address wrongly."""
        if sub in ("a_dla", "w_dla"):
            return self.dla_mailbox(), True
        if sub in ("a_domain", "w_domain"):
            return self.working_address(unit, shared), True
        if sub == "c_not_announced":
            return self.dla_mailbox(), False
        if sub == "c_empty":
            return "", True
        if sub in ("b3_thai_ok", "b3_thai_dead"):
            return thai_digits(self.dla_mailbox(exists=sub == "b3_thai_ok")), True
        if sub == "b3_two":
            first = self.working_address(unit)
            second = self.put(first.split("@")[1], "nayok")
            return f"{first}, {second}", True
        if sub == "b3_mailto":
            return "mailto:" + self.working_address(unit), True
        if sub == "b3_fullwidth":
            return self.working_address(unit).replace("@", "＠"), True
        if sub == "b3_spaces":
            return self.working_address(unit).replace("@", " @ "), True
        if sub == "b3_missing_tld":
            return f"saraban_{self.code()}@dla", True
        raise ValueError(f"unknown subtype {sub}")  # pragma: no cover - table and code agree

    def other_domain_address(self, unit: _Unit, sub: str) -> str:
        """B1 (free mail), B2 (a domain outside go.th) and D1 (a domain that does not exist)."""
        if sub.startswith("b1_"):
            domain = {"b1_gmail_ok": "gmail.com", "b1_gmail_unknown": "gmail.com", "b1_hotmail_ok": "hotmail.com",
                      "b1_hotmail_th_ok": "hotmail.co.th", "b1_yahoo_ok": "yahoo.com",
                      "b1_yahoo_unknown": "yahoo.com"}[sub]
            return self.free_address(unit, domain, exists=sub.endswith("_ok"))
        if sub in ("b2_coth_ok", "b2_com_ok", "b2_inth_ok"):
            suffix = {"b2_coth_ok": "co.th", "b2_com_ok": "com", "b2_inth_ok": "in.th"}[sub]
            domain = self.new_domain(unit, suffix)
            self.on_pool(domain, varied=False)
            return self.put(domain, "saraban")
        if sub in ("b2_coth_nx", "d1"):
            domain = self.new_domain(unit, "co.th" if sub == "b2_coth_nx" else "go.th")
            self.b.domain(domain, DNS_NXDOMAIN)
            return f"saraban@{domain}"
        raise ValueError(f"unknown subtype {sub}")  # pragma: no cover - table and code agree

    def broken_address(self, unit: _Unit, sub: str) -> str:
        """D2 (no mail server), D3 (no such mailbox) and E (no answer yet)."""
        rng, b = self.rng, self.b
        if sub in ("d2_null_mx", "d2_no_records", "d2_ghost_mx", "d2_refused", "e_servfail"):
            domain = self.new_domain(unit)
            if sub == "d2_null_mx":
                b.domain(domain, DNS_NULL_MX)
            elif sub == "d2_no_records":
                b.domain(domain, DNS_NO_RECORDS)
            elif sub == "d2_ghost_mx":
                b.domain(domain, DNS_MX, ((10, f"mail.{domain}"),))  # the MX name does not resolve
            elif sub == "d2_refused":
                first, second = rng.sample(self.refusers, 2)
                b.mx_domain(domain, first, second)
            else:
                b.domain(domain, DNS_SERVFAIL)
            return f"saraban@{domain}"
        if sub == "d3_dla":
            return self.dla_mailbox(exists=False)
        if sub in ("d3_unknown", "d3_disabled", "d3_full", "e_prober"):
            state = {"d3_unknown": None, "d3_disabled": MAILBOX_DISABLED, "d3_full": MAILBOX_FULL,
                     "e_prober": MAILBOX_BLOCKS_PROBER}[sub]
            return self.own_domain_on(unit, rng.choice(self.plain), state)
        if sub == "e_421":
            return self.own_domain_on(unit, self.greeting_421)
        if sub == "e_greylist":
            return self.own_domain_on(unit, self.greylist_long)
        raise ValueError(f"unknown subtype {sub}")  # pragma: no cover - table and code agree

    def nonlocal_address(self, unit: _Unit) -> str:
        """Central agencies: saraban@<domain>; provincial offices: <province>@<department domain>."""
        domain = unit.domain
        if domain not in self.holders and unit.province == BANGKOK:  # a central agency: its own host
            host = self.b.host(f"mail.{domain}", starttls=True, pipelining=True, banner="ESMTP Postfix")
            self.serve(domain, (host,))
        elif domain not in self.holders:  # a provincial hall: hosted on the small-host pool
            self.on_pool(domain, varied=False)
        return self.put(domain, unit.province_roman if unit.parent else "saraban")


catalogue_world()  # fills CATALOGUE_FLAGS, so importing it alone is enough (about 1 ms)


# Real lists carry copy-paste rows: a row that repeats the agency name of the row above, in the same
# district. The national world has a few (the first at row 41, then one in every 600), so that the
# console's "possible duplicate" flag and the operator's same/different decision can be tried in the demo.
_COPY_FIRST, _COPY_EVERY = 40, 600


def _copy_paste_names(records: list[tuple[_Unit, str, str, bool]]) -> None:
    """Give a few local rows the name of the row above (same district); addresses and groups stay theirs."""
    for i in range(_COPY_FIRST, len(records), _COPY_EVERY):
        unit, above = records[i][0], records[i - 1][0]
        if unit.local and above.local and (unit.province, unit.district) == (above.province, above.district):
            records[i] = (replace(unit, name=above.name, kind=above.kind), *records[i][1:])


def national_world(agencies: int = NATIONAL_TOTAL, *, seed: int = 2568) -> World:
    """A deterministic country: `agencies` agencies with OPDC's group mix (scaled), on DLA + a long tail."""
    if agencies < 1:
        raise ValueError("agencies must be at least 1")
    return _National(agencies, seed).build()


__all__ = [
    "CATALOGUE_FLAGS",
    "KIND_UNIVERSITY",
    "NATIONAL_GROUPS",
    "PROVINCES",
    "catalogue_world",
    "national_world",
    "tak_agencies",
    "thai_digits",
]
