# SPDX-License-Identifier: GPL-2.0
"""What a page of `sluicectl report --html` holds, as python3's html.parser
and xml.etree read it, one fact a line, for the tests to compare:

    svg N xml-ok N          <svg> elements; how many parse as XML
    script N img N links N http N
                            tags that would run or load something, src/href
                            attributes, and "http:"/"https:" anywhere
    totals T D A            the decisions, denied and allowed, it states
    CHART CLASS KEY COUNT   each bar of the top charts, in page order
    history away WHY        each span without an agent
    event KIND              each row of the events table
    over-time deny N allow N  the bars of the time chart, summed
    text-count N            how often argv[2] (if given) shows as text

Usage: python3 report_check.py PAGE [TEXT]
"""
import collections
import re
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = collections.Counter()
        self.svg = self.rect = self.title = self.span = self.table = None
        self.bars = []
        self.events = []
        self.links = 0
        self.texts = []
        self.totals = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        self.links += sum(k in a for k in ('src', 'href', 'xlink:href', 'action'))
        if tag == 'svg':
            self.svg = a.get('id')
        elif tag == 'rect':
            self.rect = (a.get('class'), int(a.get('data-count', 0)))
        elif tag == 'title' and self.rect:
            self.title = ''
        elif tag == 'span':
            self.span = a.get('class')
        elif tag == 'table':
            self.table = a.get('id')
        elif tag == 'tr' and self.table == 'events' and a.get('class'):
            self.events.append(a['class'])

    def handle_endtag(self, tag):
        if tag == 'title' and self.title is not None:
            self.bars.append((self.svg, self.rect[0], self.title, self.rect[1]))
            self.title = None
        elif tag == 'rect':
            self.rect = None

    def handle_data(self, data):
        self.texts.append(data)
        if self.title is not None:
            self.title += data
        if self.span:
            self.totals[self.span] = data
            self.span = None


def main():
    page = open(sys.argv[1], encoding='utf-8').read()
    p = Page()
    p.feed(page)
    p.close()
    svgs = re.findall(r'<svg.*?</svg>', page, re.S)
    for s in svgs:
        ET.fromstring(s)
    print('svg', p.tags['svg'], 'xml-ok', len(svgs))
    print('script', p.tags['script'], 'img', p.tags['img'], 'links', p.links,
          'http', len(re.findall('https?:', page)))
    print('totals', p.totals.get('total'), p.totals.get('denied'), p.totals.get('allowed'))
    over = collections.Counter()
    for svg, cls, title, n in p.bars:
        if svg == 'over-time':
            over[cls] += n
        elif svg == 'history':
            print(svg, cls, title.rsplit(': ', 1)[1])
        else:
            print(svg, cls, title.rsplit(': ', 1)[0], n)
    for kind in p.events:
        print('event', kind)
    print('over-time deny', over['deny'], 'allow', over['allow'])
    if len(sys.argv) > 2:
        print('text-count', sum(t.count(sys.argv[2]) for t in p.texts))


main()
