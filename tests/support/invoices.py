"""Generated invoice screenshots with their true fields, for tests and bench/ocr.py.

Layouts: a Chinese fully-digital VAT invoice (全电发票, 20-digit number), an older Chinese VAT invoice
(发票代码 + 8-digit 发票号码), an English invoice, and a till receipt. Fonts: WenQuanYi Zen Hei for
Chinese, DejaVu Sans/Serif for English (Debian's fonts-wqy-zenhei and fonts-dejavu-core).
Degradations: JPEG 35–50, rotation 2–4°, blur, 55% downscale, phone-screenshot framing.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_DIRS = [Path("/usr/share/fonts/truetype/wqy"), Path("/usr/share/fonts/truetype/dejavu")]
ZH_FONT = "wqy-zenhei.ttc"
EN_FONTS = ["DejaVuSans.ttf", "DejaVuSerif.ttf", "DejaVuSansCondensed.ttf"]
DIGITS = "零壹贰叁肆伍陆柒捌玖"


def font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        if (folder / name).exists():
            return ImageFont.truetype(str(folder / name), size)
    raise FileNotFoundError(f"font {name} not found: apt-get install fonts-wqy-zenhei fonts-dejavu-core")


def chinese_amount(value: Decimal) -> str:
    """1356.00 → 壹仟叁佰伍拾陆圆整 (the 大写 line of a VAT invoice)."""
    yuan, cents = divmod(int((value * 100).to_integral_value()), 100)
    units = ["", "拾", "佰", "仟"]
    out, zero = "", False
    for group_index, group in enumerate((yuan // 10000, yuan % 10000)):
        if group_index == 0 and group == 0:
            continue
        text = ""
        for i, d in enumerate(f"{group:04d}"):
            if d == "0":
                zero = bool(text) or bool(out)
                continue
            if zero:
                text += "零"
                zero = False
            text += DIGITS[int(d)] + units[3 - i]
        out += text + ("万" if group_index == 0 else "")
    out = (out or "零") + "圆"
    jiao, fen = divmod(cents, 10)
    if not cents:
        return out + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif yuan:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    return out


@dataclass
class Generated:
    image: Image.Image
    truth: dict[str, str | None]
    layout: str


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _zh_company(rng: random.Random) -> str:
    return (
        rng.choice(["深圳市", "上海", "北京", "杭州", "广州市"])
        + rng.choice(["星河科技", "蓝海贸易", "云帆电子", "华信商贸", "明远信息"])
        + "有限公司"
    )


def _tax_id(rng: random.Random) -> str:
    return (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(10))
    )


def zh_vat(rng: random.Random, digital: bool = True, **given: str) -> Generated:
    """A Chinese VAT invoice; `given` fixes fields (number, total, buyer, buyer_tax_id, date) for a known order."""
    w, h = 1500, 860
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    f, fb, fs = font(ZH_FONT, 26), font(ZH_FONT, 40), font(ZH_FONT, 22)
    if "total" in given:
        total = Decimal(given["total"])
        net = (total / Decimal("1.13")).quantize(Decimal("0.01"))
        tax = total - net
    else:
        net = _money(rng, 50, 20000)
        tax = (net * Decimal("0.13")).quantize(Decimal("0.01"))
        total = net + tax
    date = given.get("date") or f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    buyer, seller = given.get("buyer") or _zh_company(rng), _zh_company(rng)
    buyer_id, seller_id = given.get("buyer_tax_id") or _tax_id(rng), _tax_id(rng)
    number = given.get("number") or "".join(rng.choice("0123456789") for _ in range(20 if digital else 8))
    code = None if digital else "".join(rng.choice("0123456789") for _ in range(12))
    title = "电子发票（增值税专用发票）" if digital else "增值税普通发票"
    d.text((380, 30), title, font=fb, fill=(150, 60, 20))
    y0 = 40
    if code:
        d.text((980, y0), f"发票代码：{code}", font=f, fill="black")
        y0 += 40
    d.text((980, y0), f"发票号码：{number}", font=f, fill="black")
    y, m, dd = date.split("-")
    d.text((980, y0 + 40), f"开票日期：{y}年{m}月{dd}日", font=f, fill="black")
    d.rectangle((40, 170, w - 40, h - 60), outline=(150, 60, 20), width=2)
    d.text((70, 190), "购买方信息", font=f, fill="black")
    d.text((70, 235), f"名称：{buyer}", font=f, fill="black")
    d.text((70, 275), f"统一社会信用代码/纳税人识别号：{buyer_id}", font=fs, fill="black")
    d.text((730, 190), "销售方信息", font=f, fill="black")
    d.text((730, 235), f"名称：{seller}", font=f, fill="black")
    d.text((730, 275), f"统一社会信用代码/纳税人识别号：{seller_id}", font=fs, fill="black")
    d.line((40, 320, w - 40, 320), fill=(150, 60, 20), width=2)
    for x, label in ((70, "项目名称"), (520, "数量"), (680, "金额"), (900, "税率"), (1080, "税额")):
        d.text((x, 335), label, font=f, fill="black")
    d.text((70, 385), rng.choice(["*电子计算机*键盘", "*家用电器*台灯", "*通信设备*数据线"]), font=f, fill="black")
    d.text((520, 385), "1", font=f, fill="black")
    d.text((680, 385), f"{net:.2f}", font=f, fill="black")
    d.text((900, 385), "13%", font=f, fill="black")
    d.text((1080, 385), f"{tax:.2f}", font=f, fill="black")
    d.text((70, 560), "合计", font=f, fill="black")
    d.text((680, 560), f"¥{net:.2f}", font=f, fill="black")
    d.text((1080, 560), f"¥{tax:.2f}", font=f, fill="black")
    d.line((40, 610, w - 40, 610), fill=(150, 60, 20), width=2)
    d.text((70, 630), "价税合计（大写）", font=f, fill="black")
    d.text((330, 630), chinese_amount(total), font=f, fill="black")
    d.text((900, 630), f"（小写）¥{total:.2f}", font=f, fill="black")
    d.text((70, 700), "开票人：王芳", font=f, fill="black")
    truth = {
        "number": number,
        "code": code,
        "date": date,
        "seller": seller,
        "seller_tax_id": seller_id,
        "buyer": buyer,
        "buyer_tax_id": buyer_id,
        "total": f"{total:.2f}",
        "tax": f"{tax:.2f}",
        "currency": "CNY",
    }
    return Generated(img, truth, "zh_digital" if digital else "zh_vat")


def en_invoice(rng: random.Random) -> Generated:
    w, h = 1100, 1300
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    name = rng.choice(EN_FONTS)
    f, fb, fs = font(name, 26), font(name, 44), font(name, 22)
    seller = rng.choice(["Northwind Traders Ltd", "Acme Supplies Inc", "Blue Harbor Goods LLC"])
    buyer = rng.choice(["Emma Brown", "Oliver Smith", "Maple Leaf Cafe"])
    currency, symbol = rng.choice([("USD", "$"), ("GBP", "£"), ("EUR", "€")])
    items = [
        (
            rng.choice(["Desk lamp", "USB-C cable", "Headphones", "Notebook", "Mouse pad"]),
            rng.randint(1, 4),
            _money(rng, 3, 300),
        )
        for _ in range(rng.randint(1, 4))
    ]
    subtotal = sum((q * p for _, q, p in items), Decimal("0"))
    rate = rng.choice([Decimal("0.08"), Decimal("0.20"), Decimal("0.10")])
    tax = (subtotal * rate).quantize(Decimal("0.01"))
    total = subtotal + tax
    number = f"INV-{rng.randint(2024, 2026)}-{rng.randint(1, 99999):05d}"
    month = rng.choice(["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"])
    day, year = rng.randint(1, 28), 2026
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    date = f"{year}-{months.index(month) + 1:02d}-{day:02d}"
    vat = f"GB{rng.randint(100000000, 999999999)}"
    d.text((60, 50), seller, font=fb, fill=(20, 40, 120))
    d.text((60, 115), f"VAT No: {vat}", font=fs, fill="black")
    d.text((760, 50), "INVOICE", font=fb, fill=(20, 40, 120))
    d.text((700, 140), "Invoice No:", font=f, fill="black")
    d.text((870, 140), number, font=f, fill="black")
    d.text((700, 185), "Date:", font=f, fill="black")
    d.text((870, 185), f"{month} {day}, {year}", font=f, fill="black")
    d.text((60, 250), "Bill To:", font=f, fill="black")
    d.text((60, 290), buyer, font=f, fill="black")
    d.text((60, 330), f"{rng.randint(1, 200)} High Street", font=fs, fill="black")
    d.line((60, 400, w - 60, 400), fill="black", width=2)
    for x, label in ((60, "Description"), (560, "Qty"), (680, "Unit price"), (900, "Amount")):
        d.text((x, 410), label, font=f, fill="black")
    y = 460
    for desc, q, p in items:
        d.text((60, y), desc, font=f, fill="black")
        d.text((560, y), str(q), font=f, fill="black")
        d.text((680, y), f"{symbol}{p:.2f}", font=f, fill="black")
        d.text((900, y), f"{symbol}{q * p:.2f}", font=f, fill="black")
        y += 50
    y += 40
    d.line((600, y, w - 60, y), fill="black", width=1)
    d.text((600, y + 20), "Subtotal", font=f, fill="black")
    d.text((900, y + 20), f"{symbol}{subtotal:.2f}", font=f, fill="black")
    d.text((600, y + 70), f"Tax ({int(rate * 100)}%)", font=f, fill="black")
    d.text((900, y + 70), f"{symbol}{tax:.2f}", font=f, fill="black")
    d.text((600, y + 130), f"Amount Due ({currency})", font=f, fill="black")
    d.text((900, y + 130), f"{symbol}{total:.2f}", font=f, fill="black")
    truth = {
        "number": number,
        "code": None,
        "date": date,
        "seller": seller,
        "seller_tax_id": vat,
        "buyer": buyer,
        "buyer_tax_id": None,
        "total": f"{total:.2f}",
        "tax": f"{tax:.2f}",
        "currency": currency,
    }
    return Generated(img, truth, "en_invoice")


def receipt(rng: random.Random) -> Generated:
    w = 620
    items = [
        (rng.choice(["Coffee", "Bagel", "Sandwich", "Juice", "Muffin", "Salad"]), _money(rng, 2, 15))
        for _ in range(rng.randint(2, 5))
    ]
    h = 760 + 45 * len(items)
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    f, fb = font("DejaVuSansMono.ttf", 26), font("DejaVuSansMono.ttf", 34)
    seller = rng.choice(["CORNER CAFE", "GREEN MARKET", "CITY BAKERY"])
    subtotal = sum((p for _, p in items), Decimal("0"))
    tax = (subtotal * Decimal("0.0875")).quantize(Decimal("0.01"))
    total = subtotal + tax
    number = f"{rng.randint(100000, 999999)}"
    date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    d.text((w // 2 - 130, 40), seller, font=fb, fill="black")
    d.text((60, 110), f"Receipt #: {number}", font=f, fill="black")
    y_, m_, d_ = date.split("-")
    d.text((60, 150), f"Date: {m_}/{d_}/{y_}", font=f, fill="black")
    y = 220
    for name, p in items:
        d.text((60, y), name, font=f, fill="black")
        d.text((420, y), f"${p:.2f}", font=f, fill="black")
        y += 45
    y += 20
    d.text((60, y), "SUBTOTAL", font=f, fill="black")
    d.text((420, y), f"${subtotal:.2f}", font=f, fill="black")
    d.text((60, y + 45), "TAX", font=f, fill="black")
    d.text((420, y + 45), f"${tax:.2f}", font=f, fill="black")
    d.text((60, y + 100), "TOTAL", font=fb, fill="black")
    d.text((420, y + 100), f"${total:.2f}", font=fb, fill="black")
    d.text((60, y + 180), "THANK YOU!", font=f, fill="black")
    truth = {
        "number": number,
        "code": None,
        "date": date,
        "seller": seller,
        "seller_tax_id": None,
        "buyer": None,
        "buyer_tax_id": None,
        "total": f"{total:.2f}",
        "tax": f"{tax:.2f}",
        "currency": "USD",
    }
    return Generated(img, truth, "receipt")


LAYOUTS = {
    "zh_digital": lambda r: zh_vat(r, True),
    "zh_vat": lambda r: zh_vat(r, False),
    "en_invoice": en_invoice,
    "receipt": receipt,
}
DEGRADATIONS = ("clean", "jpeg", "rotate", "blur", "downscale", "phone")


def degrade(img: Image.Image, how: str, rng: random.Random) -> Image.Image:
    if how == "jpeg":
        buffer = io.BytesIO()
        img.save(buffer, "JPEG", quality=rng.randint(35, 50))
        return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    if how == "rotate":
        angle = rng.uniform(2, 4) * rng.choice([-1, 1])
        return img.rotate(angle, expand=True, fillcolor="white", resample=Image.BICUBIC)
    if how == "blur":
        return img.filter(ImageFilter.GaussianBlur(1.1))
    if how == "downscale":
        return img.resize((int(img.width * 0.55), int(img.height * 0.55)), Image.LANCZOS)
    if how == "phone":
        # A phone screenshot: the page scaled to a 1080-wide screen, a status bar and app chrome around it.
        scale = 1000 / img.width
        page = img.resize((1000, int(img.height * scale)), Image.LANCZOS)
        screen = Image.new("RGB", (1080, page.height + 400), (242, 242, 247))
        draw = ImageDraw.Draw(screen)
        draw.rectangle((0, 0, 1080, 90), fill=(30, 30, 30))
        draw.text((40, 25), "9:41", font=font("DejaVuSans.ttf", 36), fill="white")
        draw.text((40, 120), "< Back     Invoice.pdf", font=font("DejaVuSans.ttf", 34), fill=(0, 122, 255))
        screen.paste(page, (40, 200))
        return screen
    return img


def generate(seed: int, layout: str | None = None, how: str = "clean") -> Generated:
    rng = random.Random(seed)
    layout = layout or rng.choice(list(LAYOUTS))
    made = LAYOUTS[layout](rng)
    made.image = degrade(made.image, how, rng)
    return made


def png_bytes(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, "PNG")
    return buffer.getvalue()
