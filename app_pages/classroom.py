"""Class mode: a teacher starts a class, students join from their phones by code or QR code and draw, and the
teacher's wall shows what the class made and how the networks read it (issue 31).

Who is who is in the address: ``?class=CODE&teacher=SECRET`` is the teacher's screen, ``?class=CODE&student=TOKEN``
a student's (a reload rejoins as the same student), ``?join=CODE`` the join form. The page shows the teacher's
controls only to the teacher's secret, and every control's action checks the secret again in
``core.classroom.store``: an edited address or a replayed message opens nothing.
"""

from __future__ import annotations

import functools
import uuid
from html import escape

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from app_pages.ui import charts, class_letters, class_student, nets
from app_pages.ui.live_canvas import sending_canvas
from core.base.words import with_article
from core.classroom import captions, db, export, join, keys, stats, store, training
from core.images import strokes, thumbnails
from core.lab import runs
from core.nets import registry

# How often the wall and the students' screens look for news. The wall is one session (one per server): every
# second, so a drawing is on it within about a second. The students' screens are thirty sessions, most of a
# class's reruns: every two seconds (a new activity reaches them within two).
WALL_EVERY_S = 1
# The wall's charts and tables, every few seconds: a projector's figures need not move every second, and redrawn
# every second two walls' charts cost Chromium about 0.4 of this machine's 2 cores (0.96 cores in all, 0.59 now).
FIGURES_EVERY_S = 5
FOLLOW_EVERY_S = 2
ACTIVITY_PICKER = "class_activity"  # the teacher's activity picker
ACTIVITY_SEEN = "class_activity_seen"  # the store's activity that picker last showed
FOLLOW = "class_seen"  # what a student's screen last showed: (activity, prompt)
ME = "class_me"  # (token, store.Student) as the page or the last Send left them: the sheet needs no query
SEND_ERROR = "class_send_error"  # why the last Send was refused, for the sheet to say
SEND = "Send"  # the canvas' own button: it sends the whole drawing at once
JOINING = "class_joining"  # {code: token} the join form offers: the token a tap on Join gives the new student
NICKNAME = "class_nickname_typed"  # the join form's nickname field
PINS = "class_pins"  # the PINs a teacher typed in this browser session, by class code: never in the address
MOSAIC_WIDTH = 90  # pixels of a drawing on the wall
ACTIVITY_NAMES = {store.DRAW: "Draw for our data set", store.STUMP: "Stump the network",
                  store.LETTERS: "Letters with many hands", store.PAUSED: "Pause"}
ACTIVITY_ASK = {store.DRAW: "Draw {label}", store.STUMP: "Draw {label} the networks misread"}  # "a 7", "an 8"

params = st.query_params


def hook(testid: str, text: str = "", **attributes) -> None:
    """An element tests and tools can find (``data-testid``), showing ``text``."""
    attrs = "".join(f' data-{k}="{escape(str(v), quote=True)}"' for k, v in attributes.items())
    st.html(f'<div data-testid="{testid}"{attrs}>{escape(text)}</div>')


def join_address(code: str) -> str:
    """The join address as a phone in the room reaches this server: the host the teacher's browser used, unless
    that is this machine's loopback, then the machine's address on the network."""
    host = st.context.headers.get("Host") or ""
    name, _, port = host.rpartition(":") if host.count(":") == 1 else (host, "", "")
    if not name or name in ("localhost", "0.0.0.0") or name.startswith("127.") or name.startswith("["):
        name = None
    return join.join_url(code, int(port or st.get_option("server.port")), st.get_option("server.baseUrlPath") or "",
                         host=name)


# --- No class in the address: start one, or join one --------------------------------------------------------

def landing() -> None:
    st.title("Class")
    st.write("A whole class draws at once: students join from a phone or laptop with a code, no account, and the "
             "wall on the projector shows what the class made and how the networks read the class's handwriting.")
    left, right = st.columns(2)
    with left.form("class_start"):
        st.subheader("Teach")
        pin = st.text_input("A PIN to open the teacher's screen on another device (optional, 4+ characters)",
                            type="password")
        if st.form_submit_button("Start a class", icon=":material/school:", type="primary"):
            try:
                info, secret = store.start_class(pin=pin.strip() or None)
            except store.ClassError as e:
                st.error(str(e), icon=":material/error:")
            else:
                params.from_dict({"class": info.code, "teacher": secret})
                st.rerun()
    with right.form("class_join"):
        st.subheader("Join")
        code = st.text_input("The class's code", max_chars=12)
        if st.form_submit_button("Join", icon=":material/login:"):
            params.from_dict({join.JOIN: code})
            st.rerun()
    with left.form("class_reopen"):
        st.caption("Open a class you teach on this device, with the PIN chosen when it started")
        code = st.text_input("Code of your class", max_chars=12)
        pin = st.text_input("Your PIN", type="password")
        if st.form_submit_button("Open my class", icon=":material/lock_open:"):
            open_with_pin(code, pin)


# --- A student -------------------------------------------------------------------------------------------------

def rejoin_from_browser(code: str) -> bool:
    """When this browser keeps a token of a student of class ``code``, go to that student's page (a new session
    of the same student: the join address opened again, a reload that lost the address's token).

    False while the browser has not answered: the caller then shows no form. The answer comes as a rerun request
    of its own, and Streamlit runs only the newest request, so an answer reaching the server after a tap on Join
    (a slow phone, a busy server) would interrupt the tap's run, or send its move to the student's address back
    to the address the browser still shows: a student made in the store, the join form still on the phone.
    """
    token = class_student.kept_token(code)
    if token:
        try:
            store.rejoin(code, token)
        except (store.ClassError, store.NotAllowed):
            return True  # a class that ended, a store that was reset: join anew
        params.from_dict({"class": code, "student": token})
        st.rerun()
    if token is None:
        st.caption("Opening the class in this browser…")
    return token is not None


def join_form(code: str) -> None:
    try:
        info = store.class_info(code)
    except store.ClassError as e:
        st.error(str(e), icon=":material/error:")
        return
    st.title(f"Join class {info.code}")
    offered = st.session_state.get(JOINING, {})
    token = offered.get(info.code) or keys.new_token()
    if store.screen(info.code, token) is not None:  # Join was tapped: name the student, then to their screen
        store.join(info.code, st.session_state.get(NICKNAME) or "", token)
        params.from_dict({"class": info.code, "student": token})
        st.rerun()
    st.session_state[JOINING] = offered | {info.code: token}
    if not rejoin_from_browser(info.code):
        return
    with st.form("class_nickname"):
        st.text_input("Your nickname (optional: only your teacher sees it)", max_chars=store.MAX_NICKNAME,
                      key=NICKNAME)
        st.form_submit_button("Join", icon=":material/login:", type="primary", on_click=join_class,
                              args=(info.code, token))
    teacher_pin_field(info.code)


def join_class(code: str, token: str) -> None:
    """Join's callback: the student goes into the store before anything else. A request reaching the server right
    after the tap (a reconnection) interrupts the page's run, a callback at its first use of Streamlit's state,
    and carries the join address the browser still shows; the form then finds the student by the token it offered,
    names them and sends them on. A request that comes before the callback starts loses the tap whole: no student
    made, the form still there to tap again (tests/test_classroom_page.py)."""
    store.join(code, "", token)


@st.fragment(run_every=FOLLOW_EVERY_S)
def follow(code: str, token: str) -> None:
    """Reload the student's screen when the teacher changes the activity (or the class ends)."""
    if store.screen(code, token) != st.session_state.get(FOLLOW):
        st.rerun()


def student(code: str, token: str) -> None:
    try:
        info, me = store.class_info(code), store.rejoin(code, token)
    except (store.ClassError, store.NotAllowed) as e:
        st.session_state[FOLLOW] = None
        st.error(f"{e}", icon=":material/error:")
        if st.button("Join a class"):
            params.clear()
            st.rerun()
        return
    st.session_state[FOLLOW], st.session_state[ME] = (info.activity, me.prompt), (token, me)
    class_student.keep(info.code, token)
    follow(code, token)
    if info.activity not in store.DRAWING_ACTIVITIES:
        sent_so_far(info.code, me)
        st.title("Wait for your teacher")
        st.write("Your teacher starts the next activity; this screen follows by itself.")
        return
    sheet(code, token, info.activity)


def sent_so_far(code: str, me: store.Student) -> None:
    st.caption(f"Class {code} · you are {me.nickname or me.pseudonym} · drawings sent: {me.drawings}")


def send(code: str, token: str, submission: str, prompt: str, sent: dict) -> None:
    """The Send button's callback with the drawing it sent: it runs before the sheet is drawn again, so the answer
    (the count, the next prompt, a blank canvas) is that one run, not a second one after an ``st.rerun``."""
    try:
        st.session_state[ME] = (token, store.submit(code, token, submission, prompt, sent.get("strokes") or [],
                                                    sent.get("png")).sender)
    except (store.ClassError, store.NotAllowed) as e:
        st.session_state[SEND_ERROR] = str(e)
        st.session_state.pop(ME, None)  # the sheet reads the student again: the refusal may say why


@st.fragment
def sheet(code: str, token: str, activity: str) -> None:
    """What the student is asked to draw, the canvas and Send: a Send reruns this, not the page (the page's reruns
    were most of a drawing class's work on the server), and a stroke reruns nothing (the canvas keeps the drawing
    until Send sends it whole)."""
    kept, me = st.session_state.get(ME, (None, None))
    if kept != token:  # not since the page or the last Send
        try:
            me = store.rejoin(code, token)
        except (store.ClassError, store.NotAllowed):
            st.rerun()  # the page says what happened
        st.session_state[ME] = (token, me)
    st.session_state[FOLLOW] = (activity, me.prompt)  # a new prompt after a Send is no news to ``follow``
    sent_so_far(keys.normal_code(code), me)
    if error := st.session_state.pop(SEND_ERROR, None):
        st.error(error, icon=":material/error:")
    asked = (class_letters.ask(me.prompt) if activity == store.LETTERS else
             ACTIVITY_ASK[activity].format(label=with_article(me.prompt)))
    st.html(f'<h1 data-testid="vp-class-prompt" data-label="{escape(me.prompt, quote=True)}">{escape(asked)}</h1>')
    key = f"class_canvas_{me.drawings}"  # a new, blank canvas after each drawing sent
    submission = st.session_state.setdefault(f"{key}_id", uuid.uuid4().hex)  # sent again, stored once
    live = nets.live_models() if activity == store.STUMP else ()  # stumping: see the networks read as you draw
    sending_canvas(key, strokes.PEN_WIDTH, SEND, functools.partial(send, code, token, submission, me.prompt),
                   live=live, lead=live[0] if live else None)


# --- The teacher -------------------------------------------------------------------------------------------------

def open_with_pin(code: str, pin: str) -> None:
    """Open the teacher's screen of class ``code`` with the PIN typed. The PIN is kept in this browser session
    only, never in the address or on the screen; a wrong one gets one clear line and opens nothing."""
    try:
        opened = store.is_teacher(code, pin)
    except store.TooManyGuesses as e:
        st.error(f"{str(e)[0].upper()}{str(e)[1:]}.", icon=":material/lock_clock:")
        return
    if opened:
        st.session_state.setdefault(PINS, {})[keys.normal_code(code)] = pin
        params.from_dict({"class": keys.normal_code(code)})
        st.rerun()
    st.error("No class here has that code and PIN.", icon=":material/lock:")


def teacher_pin_field(code: str) -> None:
    """'I am the teacher': the teacher opens their screen from the join address (the QR code) with their PIN."""
    with st.expander("I am the teacher", icon=":material/school:"), st.form("class_teacher_pin"):
        pin = st.text_input("The PIN you chose when you started the class", type="password")
        if st.form_submit_button("Open the teacher's screen", icon=":material/lock_open:"):
            open_with_pin(code, pin)


def teacher_controls(code: str, secret: str, info: store.ClassInfo, by_pin: bool) -> None:
    hook("vp-class-teacher")
    st.title(f"Class {info.code}")
    address = join_address(info.code)
    left, right = st.columns([1, 2])
    left.image(join.qr_png(address), width=360)
    with right:
        st.html(f'<div data-testid="vp-class-code" style="font-size:5rem;font-weight:700;letter-spacing:0.3rem">'
                f"{escape(info.code)}</div>")
        st.html(f'<div data-testid="vp-class-join" data-url="{escape(address, quote=True)}" '
                f'style="font-size:1.4rem">Join at <b>{escape(address)}</b> or scan the code</div>')
        # The picker follows the store: an activity started elsewhere (another teacher's device, a section's own
        # button) must not be set back by the value this session's picker last held.
        if st.session_state.get(ACTIVITY_SEEN) != info.activity:
            st.session_state[ACTIVITY_SEEN] = st.session_state[ACTIVITY_PICKER] = info.activity
        chosen = st.segmented_control("Activity", list(ACTIVITY_NAMES), format_func=ACTIVITY_NAMES.get,
                                      key=ACTIVITY_PICKER)
        if chosen and chosen != info.activity:
            store.set_activity(code, secret, chosen)
            st.rerun()
        # The zip is made when the teacher presses, not at every rerun: it holds every drawing up to that moment.
        st.download_button("Export the class's drawings", lambda: export.class_zip(code, secret),
                           file_name=f"class-{info.code}.zip", mime="application/zip", on_click="ignore",
                           icon=":material/download:", help="A zip: a folder of pictures per label, the strokes and "
                           "a data card (how many drawings and students, when); no nicknames.")
    with st.expander("The teacher's address, the students, ending the class"):
        if by_pin:
            st.write("Opened with your PIN: on another device, open the Class page and type the code and PIN.")
        else:
            st.write("Open the teacher's screen on another device with this address (keep it to yourself):")
            st.code(f"{address.split('?')[0]}?class={info.code}&teacher={secret}", language=None)
        roster = store.roster(code, secret)
        st.dataframe(pd.DataFrame([{"student": s.pseudonym, "nickname": s.nickname, "drawings": s.drawings}
                                   for s in roster]), hide_index=True)
        ending = st.checkbox("Delete the class, everything its students drew and the networks trained on it")
        if ending and st.button("End the class"):
            training.end_class(code, secret)  # with its training runs
            params.clear()
            st.rerun()


def mosaic(name: str, shown: list[tuple[store.Drawing, str]], code: str = "", secret: str = "") -> None:
    """Drawings side by side, each with its caption; with the secret, a button under each hides it."""
    if not shown:
        st.caption("None yet.")
        return
    cols = st.columns(6)
    for i, (drawing, caption) in enumerate(shown):
        with cols[i % 6]:
            st.image(thumbnails.thumbnail(drawing.png, MOSAIC_WIDTH), caption=caption, width=MOSAIC_WIDTH)
            if secret and st.button("Hide", key=f"hide_{name}_{drawing.id}", icon=":material/visibility_off:"):
                store.hide(code, secret, drawing.id)
                st.rerun(scope="fragment")


def confusion_chart(confusion, title: str) -> go.Figure:
    """The confusion matrix of the class's digits: rows asked, columns read."""
    digits = list(stats.DIGITS)
    figure = go.Figure(go.Heatmap(z=confusion, x=digits, y=digits, colorscale="Blues", showscale=False,
                                  text=confusion, texttemplate="%{text}", hovertemplate=(
                                      "asked %{y}, read %{x}: %{z}<extra></extra>")))
    figure.update_layout(title=title, height=380,
                         margin=dict(l=40, r=10, t=40, b=40), xaxis_title="read as", yaxis_title="asked for",
                         yaxis_autorange="reversed", xaxis_type="category", yaxis_type="category")
    return figure


def wall(code: str, secret: str) -> None:
    """The projector's wall: the drawings as they come, then what they say; both refreshed live."""
    wall_news(code, secret)
    wall_figures(code, secret)


def _figures(code: str, say: bool = True) -> stats.ClassStats | None:
    """The wall's figures; None when the class is gone, which ``say`` shows (once on a wall: its news says it)."""
    try:
        return stats.class_stats(code, nets.predictors())
    except store.ClassError as e:
        if say:
            st.error(str(e), icon=":material/error:")
        return None


@st.fragment(run_every=WALL_EVERY_S)
def wall_news(code: str, secret: str) -> None:
    """How many drawings the class has made and the latest of them, every second."""
    if (figures := _figures(code)) is None:
        return
    hook("vp-class-count", f"{figures.total} drawings from {figures.info.students} students", count=figures.total)
    st.subheader("Latest drawings")
    mosaic("latest", [(d, d.label) for d in figures.latest], code, secret)


@st.fragment(run_every=FIGURES_EVERY_S)
def wall_figures(code: str, secret: str) -> None:
    """What the class's drawings say: the counts, how the networks read them, the hardest drawings."""
    if (figures := _figures(code, say=False)) is None:
        return
    st.subheader(captions.caption(figures))
    if figures.info.activity == store.LETTERS:  # the letters' own figures are in their section: no digit networks here
        st.vega_lite_chart(charts.count_bars(figures.counts, "letter"), height=220)
        return
    left, right = st.columns([1, 1])
    with left:
        st.vega_lite_chart(charts.count_bars(figures.counts, "label"), height=220)
        st.dataframe(pd.DataFrame([{
            "network": s.title, "the class's drawings": f"{s.accuracy:.0%}" if s.accuracy is not None else "-",
            "MNIST's test digits": f"{s.mnist_accuracy:.1%}" if s.mnist_accuracy is not None else "-"}
            for s in figures.scores]), hide_index=True)
    lead = figures.lead
    with right:
        title = captions.confusion_title(figures)
        if title is None:
            st.caption(captions.confusion_waits(figures))
        else:
            st.plotly_chart(confusion_chart(figures.confusion if lead is None else lead.confusion, title),
                            key="class_confusion")
    if figures.info.activity == store.STUMP:
        st.subheader("Best stumpers")
        mosaic("stumpers", [(s.drawing, captions.what_each_read(figures, s)) for s in figures.stumpers[:6]],
               code, secret)
    st.subheader(captions.hardest_title(figures))
    hardest = ([(r.drawing, f"{r.drawing.label}, read {r.read}") for r in lead.hardest] if lead is not None else
               [(s.drawing, captions.what_each_read(figures, s)) for s in figures.hardest])
    mosaic("hardest", hardest, code, secret)


@st.fragment(run_every=FOLLOW_EVERY_S)
def class_runs(code: str) -> None:
    """The class's training runs: progress while they train, the held-out students' score when done."""
    try:
        found = runs.search(lab=training.LAB, group=f"{training.LAB}:{code}", max_results=5)
    except runs.Unavailable as e:
        st.error(f"The run store cannot be opened: {e}", icon=":material/cloud_off:")
        return
    for run in found:
        card = runs.card(run.run_id) if run.status == "FINISHED" else None
        if card is not None and "class" in card:
            st.success(f"Run {run.number}: {captions.training_caption(card)}", icon=":material/check_circle:")
        elif run.status in runs.ACTIVE:
            st.progress(run.progress, text=f"Run {run.number}: {run.state.lower()}, {run.progress:.0%}")
        else:
            st.caption(f"Run {run.number}: {run.status.lower()} {run.error or ''}")


def train_section(code: str, secret: str) -> None:
    """Train on our hands: fine-tune a Draw network on MNIST and the class's drawings, scored on held-out students."""
    # A toggle, not an expander: the run store (MLflow) is opened only when the teacher comes to train.
    if st.toggle("Train on our hands: a network taught by the class, tested on classmates it never saw",
                 key="class_train"):
        cols = st.columns([2, 1, 1])
        model = cols[0].selectbox("Network", registry.DRAW_MODELS, index=registry.DRAW_MODELS.index("resnet"),
                                  format_func=nets.title, key="class_train_model")
        epochs = cols[1].number_input("Epochs", 1, 10, 3, key="class_train_epochs")
        if cols[2].button("Train on our hands", icon=":material/model_training:"):
            try:
                run = training.train_on_class(code, secret, model, int(epochs))
            except (store.ClassError, store.NotAllowed, ValueError, runs.Unavailable) as e:
                st.error(f"Not launched: {e}", icon=":material/error:")
            else:
                st.toast(f"Run {run.number} launched: it trains in the background.", icon=":material/rocket_launch:")
        class_runs(code)


def teacher(code: str, secret: str, by_pin: bool = False) -> None:
    try:
        opened = store.is_teacher(code, secret)
    except store.TooManyGuesses as e:
        st.error(f"{str(e)[0].upper()}{str(e)[1:]}.", icon=":material/lock_clock:")
        return
    if not opened:
        st.error("This is not the teacher's address of a class here (it may have ended).", icon=":material/lock:")
        return
    info = store.class_info(code)
    teacher_controls(code, secret, info, by_pin)
    train_section(info.code, secret)
    class_letters.section(info.code, secret, info, hook)
    wall(code, secret)


try:
    db.engine()
except db.StoreUnavailable as e:
    st.error(f"Class mode cannot open its store: {e}", icon=":material/cloud_off:")
    st.stop()
typed_pin = st.session_state.get(PINS, {}).get(keys.normal_code(params.get("class") or ""))
if params.get("teacher") and params.get("class"):
    teacher(params["class"], params["teacher"])
elif typed_pin and params.get("class"):
    teacher(params["class"], typed_pin, by_pin=True)
elif params.get("student") and params.get("class"):
    student(params["class"], params["student"])
elif params.get(join.JOIN):
    join_form(params[join.JOIN])
else:
    # A student's address that lost its token: the token this browser keeps.
    if not params.get("class") or rejoin_from_browser(keys.normal_code(params["class"])):
        landing()
